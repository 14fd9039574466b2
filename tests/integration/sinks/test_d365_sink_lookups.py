"""d365-sink lookups by name or ISO code: products with their units, accounts with currency."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.sinks.conftest import account_upsert, create_entity_topics, header

pytestmark = pytest.mark.integration


def _product(number: str, unit: str) -> dict[str, Any]:
    return {
        "header": header(key=number, reference=number, flow="s4-product-to-d365"),
        "action": "UPSERT",
        "productnumber": number,
        "productid": None,
        "name": f"Product {number}",
        "description": None,
        "quantitydecimal": 0,
        "defaultuomname": unit,
        "defaultuomschedulename": "Default Unit",
        "price": Decimal("12.5000"),
        "standardcost": None,
        "producttypecode": None,
    }


def test_products_and_currency_bound_through_lookups(d365_sink, kafka_broker, sandbox_d365_clean):
    topic, results_topic, _state = create_entity_topics(d365_sink, "d365", "product")
    serializer = d365_sink.factory.serializer(value_schema="io.isthmus.d365.ProductUpsertCommand")
    producer = Producer(kafka_broker.settings.client_config())
    for number, unit in (
        ("ISTH-P1", "Primary Unit"),
        ("ISTH-P2", "Primary Unit"),
        ("ISTH-P3", "No Such Unit"),
    ):
        value = serializer(_product(number, unit), SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, value, number.encode())
    producer.flush(30)
    d365_sink.produce(
        [("9100001", account_upsert(partner="9100001", name="Euro", currency="EUR"))],
        schema="io.isthmus.d365.AccountUpsertCommand",
    )
    d365_sink.start(extra={"ISTHMUS_D365_SINK_SINK__ENTITIES": '["account", "product"]'})

    results = dict(d365_sink.decode(results_topic, expected=3))
    assert results["ISTH-P1"]["status"] == "SUCCEEDED"
    assert results["ISTH-P2"]["status"] == "SUCCEEDED"
    assert results["ISTH-P3"]["status"] == "REJECTED"
    assert "No Such Unit" in results["ISTH-P3"]["message"]
    account = dict(d365_sink.decode(d365_sink.topics.results, expected=1))["9100001"]
    assert account["status"] == "SUCCEEDED"
    with sandbox_d365_clean.api_client() as client:
        euro = client.get(
            "accounts(isthmus_s4businesspartner='9100001')",
            params={"$select": "_transactioncurrencyid_value"},
        ).json()
        currency = client.get(
            "transactioncurrencies",
            params={"$filter": "isocurrencycode eq 'EUR'", "$select": "transactioncurrencyid"},
        ).json()["value"][0]
        products = client.get(
            "products",
            params={"$filter": "startswith(productnumber,'ISTH-')", "$select": "productnumber"},
        ).json()["value"]
    assert euro["_transactioncurrencyid_value"] == currency["transactioncurrencyid"]
    assert sorted(p["productnumber"] for p in products) == ["ISTH-P1", "ISTH-P2"]
    calls = sandbox_d365_clean.admin.calls(method="GET", path="/api/data/v9.2/uom")
    paths = [call["path"] for call in calls]
    assert paths.count("/api/data/v9.2/uoms") == 2  # "Primary Unit" once (cached), the bad one
    assert paths.count("/api/data/v9.2/uomschedules") == 1
