"""S/4 stock events reach Kafka hydrated: the plant's unrestricted stock summed per material."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest

from isthmus.testing.kafka import Broker
from isthmus.testing.sandbox_s4 import SandboxS4

from .conftest import SAP_PASSWORD, SAP_USER, RunningIngress, decoded, headers_of, records_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

SCHEMA = "io.isthmus.s4.MaterialStockEvent"
CHANGED = "sap.s4.beh.materialstock.v1.MaterialStock.Changed.v1"


def _values(broker: Broker, ingress: RunningIngress, key: str, expected: int) -> list[Any]:
    found = records_for(broker, ingress.topics.s4["materialstock"], key, expected=expected)
    return [decoded(message, SCHEMA) for message in found]


def test_stock_changes_are_pushed_and_summed_over_the_plant(
    ingress: RunningIngress, sandbox_s4_clean: SandboxS4, kafka_broker: Broker
) -> None:
    sandbox_s4_clean.admin.subscribe_events(
        name=f"stock-{uuid.uuid4().hex[:6]}",
        endpoint=f"{ingress.url}/v1/webhooks/sap",
        topics=[CHANGED],
        auth={"type": "basic", "user": SAP_USER, "password": SAP_PASSWORD},
    )
    admin = sandbox_s4_clean.admin
    admin.set_stock(material="TG11", plant="1710", quantity="42")
    admin.set_stock(material="TG11", plant="1710", quantity="8", storage_location="171B")
    admin.set_stock(material="TG11", plant="1010", quantity="3")  # another plant, another key

    values = _values(kafka_broker, ingress, "TG11/1710", expected=2)
    # one record per event; each read at or after its event, so the first may already see 50
    quantities = [v["data"]["MatlWrhsStkQtyInMatlBaseUnit"] for v in values]
    assert len(quantities) == 2
    assert quantities[-1] == Decimal(50)
    assert quantities[0] in (Decimal(42), Decimal(50))
    last = values[-1]
    assert last["envelope"]["message"] == CHANGED
    assert last["envelope"]["operation"] == "UPDATED"
    assert {k: last["data"][k] for k in ("Material", "Plant", "StorageLocation")} == {
        "Material": "TG11",
        "Plant": "1710",
        "StorageLocation": "",
    }
    assert (last["data"]["InventoryStockType"], last["data"]["MaterialBaseUnit"]) == ("01", "PC")
    (other,) = _values(kafka_broker, ingress, "TG11/1010", expected=1)
    assert other["data"]["MatlWrhsStkQtyInMatlBaseUnit"] == Decimal(3)
    reads = admin.calls(method="GET", path_contains="A_MatlStkInAcctMod")
    assert len(reads) == 3
    filters = [parse_qs(read["query"])["$filter"] for read in reads]
    assert ["Material eq 'TG11' and Plant eq '1710'"] in filters


def test_a_thin_stock_event_without_plant_is_refused(ingress: RunningIngress) -> None:
    answer = ingress.sap_event(
        {
            "type": CHANGED,
            "specversion": "1.0",
            "source": "/default/sap.s4.beh/S4HCLNT100",
            "id": str(uuid.uuid4()),
            "data": {"Material": "TG11"},
        }
    )
    assert answer.status_code == 400
    assert answer.json()["violations"] == ["$.data.Material/Plant: required key is missing"]


def test_a_material_without_stock_in_the_plant_has_zero(
    ingress: RunningIngress, sandbox_s4_clean: SandboxS4, kafka_broker: Broker
) -> None:
    event_id = str(uuid.uuid4())
    answer = ingress.sap_event(
        {
            "type": CHANGED,
            "specversion": "1.0",
            "source": "/default/sap.s4.beh/S4HCLNT100",
            "id": event_id,
            "data": {"Material": "MZ-FG-M550", "Plant": "1010", "InventoryStockType": "01"},
        }
    )
    assert answer.status_code == 200, answer.text
    (record,) = records_for(
        kafka_broker, ingress.topics.s4["materialstock"], "MZ-FG-M550/1010", expected=1
    )
    value = decoded(record, SCHEMA)
    assert value["data"]["MatlWrhsStkQtyInMatlBaseUnit"] == Decimal(0)
    assert value["data"]["MaterialBaseUnit"] == "PC"
    assert headers_of(record)["ce_id"] == event_id
