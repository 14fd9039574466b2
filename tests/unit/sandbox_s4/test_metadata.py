"""The packaged EDMX files parse into the model the sandbox serializes with."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.sandbox_s4.app import SERVICES, load_models, metadata_dir
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.edm import load_service
from isthmus.sandbox_s4.odata.values import default_value, etag_of, to_wire, typed


def test_every_service_loads_and_is_named_after_its_file() -> None:
    models = load_models()
    assert set(models) == set(SERVICES)
    for name, model in models.items():
        assert model.name == name
        assert model.metadata_xml == (Path(metadata_dir()) / f"{name}.edmx").read_bytes()


def test_sales_order_keys_navigation_and_etag() -> None:
    model = load_service(path=Path(metadata_dir()) / "API_SALES_ORDER_SRV.edmx")
    order = model.entity_sets["A_SalesOrder"].entity_type
    assert order.keys == ("SalesOrder",)
    assert order.etag_property is not None and order.etag_property.name == "LastChangeDateTime"
    nav = order.navigations["to_Item"]
    assert (nav.target_set, nav.many, nav.join) == (
        "A_SalesOrderItem",
        True,
        (("SalesOrder", "SalesOrder"),),
    )
    assert order.properties["TotalNetAmount"].scale == 3
    assert not order.properties["TotalNetAmount"].creatable


def test_read_only_sets_follow_sap_annotations() -> None:
    stock = load_service(path=Path(metadata_dir()) / "API_MATERIAL_STOCK_SRV.edmx")
    assert not any(s.creatable or s.updatable or s.deletable for s in stock.entity_sets.values())
    partner = load_service(path=Path(metadata_dir()) / "API_BUSINESS_PARTNER.edmx")
    assert not partner.entity_sets["A_Customer"].creatable
    assert not partner.entity_sets["A_BusinessPartner"].deletable


def test_wire_values() -> None:
    order = load_service(path=Path(metadata_dir()) / "API_SALES_ORDER_SRV.edmx")
    props = order.entity_sets["A_SalesOrder"].entity_type.properties
    assert to_wire(props["TotalNetAmount"], 52.65) == "52.650"
    assert to_wire(props["SalesOrderDate"], "2020-05-01T00:00:00") == "/Date(1588291200000)/"
    assert to_wire(props["SalesOrderDate"], "/Date(1588291200000)/") == "/Date(1588291200000)/"
    assert (
        to_wire(props["LastChangeDateTime"], "/Date(1583073519000)/")
        == "/Date(1583073519000+0000)/"
    )
    assert typed(props["LastChangeDateTime"], "/Date(1583073519000+0000)/") == 1583073519000
    assert default_value(props["SalesGroup"]) == ""
    assert default_value(props["TotalNetAmount"]) == "0.000"
    assert default_value(props["CustomerPurchaseOrderDate"]) is None
    tag = etag_of(props["LastChangeDateTime"], "/Date(1472796947125+0000)/")
    assert tag == "W/\"datetimeoffset'2016-09-02T06%3A15%3A47.1250000Z'\""


def test_values_outside_the_type_are_rejected() -> None:
    order = load_service(path=Path(metadata_dir()) / "API_SALES_ORDER_SRV.edmx")
    props = order.entity_sets["A_SalesOrder"].entity_type.properties
    with pytest.raises(MalformedRequestError):
        to_wire(props["SalesOrderType"], "TOOLONG")
    with pytest.raises(MalformedRequestError):
        to_wire(props["TotalNetAmount"], "abc")
    with pytest.raises(MalformedRequestError):
        to_wire(props["SalesOrderDate"], "yesterday")
