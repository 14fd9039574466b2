"""CloudEvents in both HTTP modes, and the thin SAP samples routed to hydration."""

from __future__ import annotations

import json

import pytest

from isthmus.ingress.core.sap import event_for, object_type, parse_cloud_event
from isthmus.ingress.errors import MalformedError, UnsupportedMediaError
from isthmus.ingress.settings import SapEventSettings

from .conftest import SAMPLES

pytestmark = pytest.mark.unit
ROUTES = SapEventSettings().routes


def _structured(name: str):
    raw = (SAMPLES / name).read_bytes()
    return parse_cloud_event(content_type="application/json", headers={}, body=raw)


def test_sales_order_sample_asks_for_hydration_by_key() -> None:
    event = _structured("s4-event-3.json")
    pending = event_for(event, routes=ROUTES, correlation_id=None)

    assert pending is not None
    assert pending.topic == "s4.salesorder.events"
    assert pending.key == "1"
    assert pending.envelope["operation"] == "CREATED"
    assert pending.envelope["message"] == "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"
    assert pending.envelope["eventId"] == "db13c94e-c20f-4b2e-8171-6970104721a0"
    assert pending.hydration is not None
    assert pending.hydration.service == "API_SALES_ORDER_SRV"
    assert pending.hydration.expand == ("to_Item", "to_Partner")


def test_business_partner_samples_share_an_id_but_not_a_type() -> None:
    changed = event_for(_structured("s4-event-1.json"), routes=ROUTES, correlation_id=None)
    created = event_for(_structured("s4-event-2.json"), routes=ROUTES, correlation_id=None)

    assert changed is not None and created is not None
    assert changed.event_id == created.event_id
    assert changed.dedup_id != created.dedup_id
    assert (changed.key, changed.envelope["operation"]) == ("1000667", "UPDATED")


@pytest.mark.parametrize("name", ["s4-event-4.json", "s4-event-5.json", "s4-event-6.json"])
def test_freight_orders_are_not_routed(name: str) -> None:
    assert event_for(_structured(name), routes=ROUTES, correlation_id=None) is None


def test_binary_mode_reads_ce_headers_and_the_body_as_data() -> None:
    headers = {
        "ce-id": "e-1",
        "ce-source": "/default/sap.s4.beh/S4HCLNT100",
        "ce-type": "sap.s4.beh.product.v1.Product.Changed.v1",
        "ce-specversion": "1.0",
    }
    event = parse_cloud_event(
        content_type="application/json",
        headers=headers,
        body=json.dumps({"Product": "TG11"}).encode(),
    )
    pending = event_for(event, routes=ROUTES, correlation_id=None)

    assert pending is not None and pending.key == "TG11" and pending.topic == "s4.product.events"


def test_bad_events_name_every_problem() -> None:
    with pytest.raises(MalformedError) as raised:
        parse_cloud_event(content_type="application/json", headers={}, body=b'{"data": {}}')
    assert len(raised.value.violations) == 4
    with pytest.raises(UnsupportedMediaError):
        parse_cloud_event(content_type="text/plain", headers={}, body=b"{}")
    with pytest.raises(MalformedError):
        parse_cloud_event(content_type="application/json", headers={}, body=b"{nope")
    missing_key = parse_cloud_event(
        content_type="application/cloudevents+json",
        headers={},
        body=json.dumps(
            {
                "id": "1",
                "source": "s",
                "specversion": "1.0",
                "type": "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1",
                "data": {},
            }
        ).encode(),
    )
    with pytest.raises(MalformedError):
        event_for(missing_key, routes=ROUTES, correlation_id=None)


def test_object_type_of_status_events() -> None:
    assert object_type("sap.s4.beh.salesorder.v1.SalesOrder.OvrlSDProcStsChgd.v1") == (
        "salesorder",
        "OvrlSDProcStsChgd",
    )
    assert object_type("sap.s4.beh.FreightOrder.Created.v1") is None


@pytest.mark.parametrize("key", ["1" * 900_000, "17\n00", "A\x00B"])
def test_a_key_no_s4_object_has_is_refused(key: str) -> None:
    document = json.loads((SAMPLES / "s4-event-3.json").read_text())
    document["data"]["SalesOrder"] = key
    event = parse_cloud_event(
        content_type="application/json", headers={}, body=json.dumps(document).encode()
    )
    with pytest.raises(MalformedError) as raised:
        event_for(event, routes=ROUTES, correlation_id=None)
    assert raised.value.violations == (
        "$.data.SalesOrder: at most 128 printable characters expected",
    )
