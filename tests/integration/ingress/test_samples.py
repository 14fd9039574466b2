"""Every real webhook body and SAP event sample is accepted, with the right key and fields."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from isthmus.testing.kafka import Broker

from .conftest import SAMPLES, RunningIngress, decoded, headers_of, records_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ROUTED_D365 = {
    "d365-webhook-1.json": (
        "contact",
        "6d81597f-0f9f-e711-8122-000d3aa2331c",
        "io.isthmus.d365.ContactEvent",
    ),
    "d365-webhook-2.json": (
        "account",
        "ec4e2f7d-9d60-e811-a95a-000d3af24950",
        "io.isthmus.d365.AccountEvent",
    ),
    "d365-webhook-7.json": (
        "account",
        "53c52f26-a89d-ef11-8a69-000d3a30b0c1",
        "io.isthmus.d365.AccountEvent",
    ),
}
IGNORED_D365 = [
    "d365-webhook-3.json",
    "d365-webhook-4.json",
    "d365-webhook-5.json",
    "d365-webhook-6.json",
]


def _event_of(ingress: RunningIngress, broker: Broker, name: str) -> dict[str, Any]:
    """The one event the routed Dataverse sample ``name`` produced, decoded."""
    table, key, schema = ROUTED_D365[name]
    (record,) = records_for(broker, ingress.topics.d365[table], key, expected=1)
    return decoded(record, schema)


def test_dataverse_samples(ingress: RunningIngress, kafka_broker: Broker) -> None:
    for name in sorted(ROUTED_D365) + IGNORED_D365:
        response = ingress.webhook(
            (SAMPLES / name).read_bytes(),
            **{
                "x-ms-dynamics-organization": "org.crm.dynamics.com",
                "x-ms-correlation-request-id": f"corr-{name}",
            },
        )
        assert response.status_code == 200, (name, response.text)
        expected = "accepted" if name in ROUTED_D365 else "ignored"
        assert response.json()["status"] == expected, name

    for name, (table, key, schema) in ROUTED_D365.items():
        body = json.loads((SAMPLES / name).read_text())
        (record,) = records_for(kafka_broker, ingress.topics.d365[table], key, expected=1)
        value = decoded(record, schema)
        headers = headers_of(record)
        assert value["envelope"]["message"] == body["MessageName"]
        assert value["envelope"]["eventId"] == body["OperationId"]
        assert value["envelope"]["originUser"] == body["InitiatingUserId"]
        assert value["data"][f"{table}id"] == key
        assert headers["ce_id"] == body["OperationId"]
        assert headers["isthmus_correlation_id"] == f"corr-{name}"
        assert headers["traceparent"].startswith("00-")

    contact = _event_of(ingress, kafka_broker, "d365-webhook-1.json")
    assert contact["data"]["firstname"] == "James"
    assert (
        contact["envelope"]["changedFields"]
        == [
            "firstname",
            "fullname",
            "modifiedby",
            "modifiedon",
            "modifiedonbehalfby",
            "yomifullname",
        ]
        or "firstname" in contact["envelope"]["changedFields"]
    )
    phone = _event_of(ingress, kafka_broker, "d365-webhook-2.json")
    assert phone["data"]["telephone1"] == "1111"
    exported = httpx.get(ingress.metrics_url, timeout=10).text
    requests = [
        line for line in exported.splitlines() if line.startswith("isthmus_ingress_requests")
    ]
    assert any('route="/v1/webhooks/dataverse",status="200"' in line for line in requests)
    assert "isthmus_messages_produced_total" in exported


def test_sap_samples(ingress: RunningIngress, kafka_broker: Broker) -> None:
    for index in range(1, 7):
        response = ingress.sap_event((SAMPLES / f"s4-event-{index}.json").read_bytes())
        assert response.status_code == 200, (index, response.text)
        assert response.json()["status"] == ("accepted" if index <= 3 else "ignored"), index

    partner = records_for(kafka_broker, ingress.topics.s4["businesspartner"], "1000667", expected=2)
    types = sorted(
        decoded(m, "io.isthmus.s4.BusinessPartnerEvent")["envelope"]["message"] for m in partner
    )
    assert types == [
        "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1",
        "sap.s4.beh.businesspartner.v1.BusinessPartner.Created.v1",
    ]
    (order,) = records_for(kafka_broker, ingress.topics.s4["salesorder"], "1", expected=1)
    value = decoded(order, "io.isthmus.s4.SalesOrderEvent")
    assert value["data"]["SalesOrder"] == "1"
    assert headers_of(order)["ce_type"] == "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"
