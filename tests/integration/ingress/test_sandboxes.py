"""The sandboxes call the ingress: one typed event per change, hydrated, bursts coalesced."""

from __future__ import annotations

import concurrent.futures
import json
import uuid
from typing import Any

import pytest

from isthmus.sandbox_d365.business.seed import sid
from isthmus.testing.kafka import Broker
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4, sales_order_body

from .conftest import (
    SAP_PASSWORD,
    SAP_USER,
    RunningIngress,
    create_d365_order,
    decoded,
    headers_of,
    records_for,
    s4_write,
    send_order_creations_to,
    thin_sap_event,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


def _create_order(sandbox: SandboxD365) -> str:
    """A web order of TG11 x2 and TG12 x5 for customer C-10001; its id."""
    return create_d365_order(sandbox, f"Web order {uuid.uuid4().hex[:6]}", {"TG11": 2, "TG12": 5})


def test_order_created_in_dataverse_is_one_typed_event(
    ingress: RunningIngress, sandbox_d365_clean: SandboxD365, kafka_broker: Broker
) -> None:
    send_order_creations_to(ingress, sandbox_d365_clean)
    order_id = _create_order(sandbox_d365_clean)

    records = records_for(kafka_broker, ingress.topics.d365["salesorder"], order_id, expected=1)
    assert len(records) == 1
    value = decoded(records[0], "io.isthmus.d365.SalesOrderEvent")
    headers = headers_of(records[0])
    assert value["envelope"]["message"] == "Create"
    assert value["envelope"]["operation"] == "CREATED"
    assert value["envelope"]["sourceVersion"]
    assert value["data"]["salesorderid"] == order_id
    assert value["data"]["_customerid_value"] == sid("account:C-10001")
    assert len(value["data"]["order_details"]) == 2
    assert headers["ce_subject"] == order_id
    assert headers["ce_type"] == "com.microsoft.dataverse.salesorder.Create"
    assert wait_until(lambda: bool(sandbox_d365_clean.admin.deliveries()))
    (delivery,) = sandbox_d365_clean.admin.deliveries()
    assert delivery["succeeded"] and delivery["attempts"] == 1
    assert headers["isthmus_correlation_id"] == delivery["correlation_id"]
    version, trace_id, span_id, _flags = headers["traceparent"].split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)


def _s4_order(sandbox: SandboxS4) -> str:
    body = sales_order_body(f"ORD-{uuid.uuid4().hex[:8]}")
    created = s4_write(
        sandbox, "API_SALES_ORDER_SRV", "POST", "A_SalesOrder", body, Accept="application/json"
    )
    assert created.status_code == 201, created.text
    return str(created.json()["d"]["SalesOrder"])


def _thin(number: str) -> dict[str, object]:
    return thin_sap_event("sap.s4.beh.salesorder.v1.SalesOrder.Changed.v1", {"SalesOrder": number})


def test_thin_events_are_hydrated_and_a_burst_shares_reads(
    ingress: RunningIngress, sandbox_s4_clean: SandboxS4, kafka_broker: Broker
) -> None:
    sandbox_s4_clean.admin.settings(events_enabled=False)
    number = _s4_order(sandbox_s4_clean)
    sandbox_s4_clean.admin.clear_calls()

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: ingress.sap_event(_thin(number)).status_code, range(20)))

    assert answers == [200] * 20
    reads = [c for c in sandbox_s4_clean.admin.calls(method="GET") if "A_SalesOrder" in c["path"]]
    assert 1 <= len(reads) <= 5
    records = records_for(kafka_broker, ingress.topics.s4["salesorder"], number, expected=20)
    assert len(records) == 20
    value = decoded(records[0], "io.isthmus.s4.SalesOrderEvent")
    assert value["data"]["SoldToParty"] == "17100001"
    assert value["data"]["to_Item"][0]["Material"] == "TG11"
    assert value["envelope"]["sourceVersion"].endswith("Z")  # LastChangeDateTime, RFC 3339
    assert value["envelope"]["originUser"] == "ISTHMUS_COMM"


def test_event_mesh_subscription_pushes_through_the_handshake(
    ingress: RunningIngress, sandbox_s4_clean: SandboxS4, kafka_broker: Broker
) -> None:
    subscription = sandbox_s4_clean.admin.subscribe_events(
        name=f"ingress-{uuid.uuid4().hex[:6]}",
        endpoint=f"{ingress.url}/v1/webhooks/sap",
        topics=["sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"],
        auth={"type": "basic", "user": SAP_USER, "password": SAP_PASSWORD},
    )
    assert json.dumps(subscription)
    number = _s4_order(sandbox_s4_clean)

    created = "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"

    def pushed() -> list[dict[str, Any]]:
        found = records_for(kafka_broker, ingress.topics.s4["salesorder"], number, expected=None)
        values = [decoded(m, "io.isthmus.s4.SalesOrderEvent") for m in found]
        return [v for v in values if v["envelope"]["message"] == created]

    assert wait_until(lambda: len(pushed()) >= 1)
    (value,) = pushed()
    assert value["data"]["SalesOrder"] == number
    assert value["data"]["to_Item"]
    assert wait_until(lambda: any(d["status"] == 200 for d in sandbox_s4_clean.admin.deliveries()))


def test_a_key_s4_refuses_to_read_is_a_400_not_a_503(
    ingress: RunningIngress, sandbox_s4_clean: SandboxS4
) -> None:
    answer = ingress.sap_event(_thin("1')/$batch?x=('"))

    assert answer.status_code == 400, answer.text
    assert "refused to read" in answer.json()["message"]
