"""d365-sink: an update of a row Dataverse does not have yet waits for it instead of failing."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.testing.kafka import create_topics
from tests.integration.sinks.conftest import header
from tests.integration.sinks.test_d365_sink_lookups import _product

pytestmark = pytest.mark.integration

PRODUCT = "ISTH-LATE"


def test_stock_for_a_product_not_yet_in_dataverse_waits_and_then_lands(
    d365_sink, kafka_broker, sandbox_d365_clean
):
    prefix = d365_sink.topics.prefix
    create_topics(
        kafka_broker,
        *(f"{prefix}{name}" for name in ("d365.product.commands", "d365.inventory.commands")),
        *(f"{prefix}{name}" for name in ("d365.product.results", "d365.inventory.results")),
        *(f"{prefix}{name}" for name in ("state.d365.product", "state.d365.inventory")),
        partitions=2,
    )
    stock = {
        "header": header(key=PRODUCT, reference=PRODUCT, flow="s4-materialstock-to-d365-inventory"),
        "productnumber": PRODUCT,
        "quantityonhand": Decimal("25.00000"),
        "unit": "Primary Unit",
        "asOf": datetime.now(UTC),
    }
    _send(d365_sink, kafka_broker, "d365.inventory.commands", stock, "InventoryUpdateCommand")
    d365_sink.start(extra={"ISTHMUS_D365_SINK_SINK__ENTITIES": '["product", "inventory"]'})

    # the stock count arrives before its product: Dataverse answers 404 and the command waits
    deadline = time.monotonic() + 60
    while not sandbox_d365_clean.admin.calls(
        method="PATCH", path="/api/data/v9.2/products", status=404
    ):
        assert time.monotonic() < deadline, "the stock update was never tried"
        time.sleep(0.5)
    product = _product(PRODUCT, "Primary Unit")
    _send(d365_sink, kafka_broker, "d365.product.commands", product, "ProductUpsertCommand")

    results = dict(d365_sink.decode(f"{prefix}d365.inventory.results", expected=1))
    assert results[PRODUCT]["status"] == "SUCCEEDED"
    assert d365_sink.decode(d365_sink.topics.dlq, timeout_s=1) == []
    with sandbox_d365_clean.api_client() as client:
        rows = client.get(
            "products",
            params={"$filter": f"productnumber eq '{PRODUCT}'", "$select": "quantityonhand"},
        ).json()["value"]
    assert [Decimal(str(row["quantityonhand"])) for row in rows] == [Decimal(25)]


def _send(harness, broker, topic: str, value: dict[str, Any], schema: str) -> None:
    topic = f"{harness.topics.prefix}{topic}"
    serializer = harness.factory.serializer(value_schema=f"io.isthmus.d365.{schema}")
    producer = Producer(broker.settings.client_config())
    producer.produce(
        topic, serializer(value, SerializationContext(topic, MessageField.VALUE)), PRODUCT.encode()
    )
    producer.flush(30)
