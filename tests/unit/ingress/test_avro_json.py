"""JSON to Avro values: every violation listed, OData forms accepted, round trip through Avro."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import fastavro
import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.ingress.core.avro_json import convert
from isthmus.schemas import SchemaCatalogue

from .conftest import REPO

pytestmark = pytest.mark.unit
CATALOGUE = SchemaCatalogue.load(REPO / "schemas")


def _schema(name: str):
    return json.loads(CATALOGUE.get(name).text)


def _roundtrip(name: str, value):
    buffer = io.BytesIO()
    parsed = CATALOGUE.get(name).parsed
    fastavro.schemaless_writer(buffer, parsed, value)
    buffer.seek(0)
    return fastavro.schemaless_reader(buffer, parsed)


def test_flow_samples_convert_and_encode() -> None:
    for sample, name in [
        ("d365-salesorder-created", "io.isthmus.d365.SalesOrderEvent"),
        ("s4-salesorder-changed", "io.isthmus.s4.SalesOrderEvent"),
        ("d365-shipment-confirmed", "io.isthmus.d365.ShipmentConfirmationEvent"),
    ]:
        document = json.loads((REPO / "flows" / "samples" / f"{sample}.json").read_text())
        result = convert(document, _schema(name), strict=True)
        assert result.violations == []
        assert (
            _roundtrip(name, result.value)["envelope"]["eventId"] == document["envelope"]["eventId"]
        )


def test_every_violation_is_listed_with_its_path() -> None:
    document = {
        "envelope": {"eventId": 7, "occurredAt": "yesterday", "system": "SAP"},
        "data": {"salesorderid": "x", "totalamount": "1.23456", "order_details": [{}]},
        "extra": True,
    }
    result = convert(document, _schema("io.isthmus.d365.SalesOrderEvent"), strict=True)

    assert "$.envelope.eventId: expected string" in result.violations
    assert any(
        v.startswith("$.envelope.occurredAt: expected timestamp-millis") for v in result.violations
    )
    assert "$.envelope.system: expected one of D365, S4" in result.violations
    assert "$.envelope.operation: required field is missing" in result.violations
    assert "$.data.name: required field is missing" in result.violations
    assert any(v.startswith("$.data.totalamount: expected decimal") for v in result.violations)
    assert (
        "$.data.order_details[0].salesorderdetailid: required field is missing" in result.violations
    )
    assert "$.extra: unknown field" in result.violations


def test_odata_v2_forms_are_read() -> None:
    schema = _schema("io.isthmus.s4.Product")
    row = {
        "Product": "TG11",
        "BaseUnit": "PC",
        "GrossWeight": "1.500",
        "CreationDate": "/Date(1731024000000)/",
        "LastChangeDateTime": "/Date(1731053106000+0000)/",
        "to_Description": {
            "results": [{"Product": "TG11", "Language": "EN", "ProductDescription": "T"}]
        },
        "__metadata": {"uri": "x"},
    }
    result = convert(row, schema, strict=False)

    assert result.violations == []
    assert result.value["GrossWeight"] == Decimal("1.500")
    assert result.value["CreationDate"] == dt.date(2024, 11, 8)
    assert result.value["LastChangeDateTime"] == dt.datetime(2024, 11, 8, 8, 5, 6, tzinfo=dt.UTC)
    assert len(result.value["to_Description"]) == 1


@given(st.decimals(min_value=-(10**18), max_value=10**18, places=4, allow_nan=False))
def test_money_decimals_round_trip(amount: Decimal) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 23, "scale": 4}
    result = convert(str(amount), schema, strict=True)
    assert result.violations == []
    assert result.value == amount


def test_float_noise_from_a_source_is_rounded_but_refused_from_publishers() -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 23, "scale": 4}
    assert convert(12.340000000000002, schema, strict=False).value == Decimal("12.3400")
    assert convert(12.340000000000002, schema, strict=True).violations
