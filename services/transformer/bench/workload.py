"""The bench input: realistic D365 sales-order events (Avro) and the customers' xref entries."""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka import headers as h
from isthmus.schemas import SerdeFactory
from isthmus.schemas.xref import XREF_SCHEMA, cross_reference
from isthmus.transformer.samples import avro_typed

EVENT_SCHEMA = "io.isthmus.d365.SalesOrderEvent"
CURRENCIES = ("usd", "eur", "gbp")
UNITS = ("Piece", "Each", "Kilogram")


def customers(count: int) -> list[tuple[str, str]]:
    """``(D365 account id, S/4 business partner)`` pairs."""
    return [(str(uuid.UUID(int=0xA000 + n)), f"171{n:05d}") for n in range(count)]


def _zipf_pick(rng: random.Random, size: int) -> int:
    """An index in [0, size) with a Zipf-ish skew (a few customers order most)."""
    return min(size - 1, int(size * rng.random() ** 3))


def _line(template: dict[str, Any], rng: random.Random, number: int) -> dict[str, Any]:
    line = copy.deepcopy(template)
    quantity = Decimal(rng.randint(1, 40))
    price = Decimal(rng.randint(500, 250_000)) / 100
    base = quantity * price
    line.update(
        salesorderdetailid=str(uuid.uuid4()),
        productnumber=f"TG{rng.randint(10, 99)}",
        quantity=str(quantity),
        priceperunit=str(price),
        baseamount=str(base),
        tax=str((base / 10).quantize(Decimal("0.01"))),
        extendedamount=str((base * Decimal("1.1")).quantize(Decimal("0.01"))),
        uomname=rng.choice(UNITS),
        lineitemnumber=number,
        sequencenumber=number,
    )
    return line


def order_events(
    *, count: int, sample: dict[str, Any], pool: list[tuple[str, str]], seed: int = 7
) -> list[dict[str, Any]]:
    """``count`` orders shaped like the shipped sample: 1-6 lines, varied amounts and customers."""
    rng = random.Random(seed)  # noqa: S311 - workload shape, not security
    template = sample["data"]["order_details"][0]
    events = []
    for n in range(count):
        event = copy.deepcopy(sample)
        lines = [_line(template, rng, i + 1) for i in range(rng.randint(1, 6))]
        total = sum(Decimal(line["extendedamount"]) for line in lines)
        event["envelope"].update(eventId=str(uuid.uuid4()), sourceVersion=str(2_000_000 + n))
        event["data"].update(
            salesorderid=str(uuid.uuid4()),
            ordernumber=f"ORD-{n:07d}-B",
            _customerid_value=pool[_zipf_pick(rng, len(pool))][0],
            isocurrencycode=rng.choice(CURRENCIES),
            totalamount=str(total),
            totalamountlessfreight=str(total),
            order_details=lines,
        )
        events.append(event)
    return events


def preload(
    *,
    producer: Producer,
    serdes: SerdeFactory,
    topic: str,
    events: list[dict[str, Any]],
) -> int:
    """Produce the orders (single-object Avro, CloudEvents headers); returns the bytes written."""
    schema = json.loads(serdes.catalogue.get(EVENT_SCHEMA).text)
    serializer = serdes.serializer(value_schema=EVENT_SCHEMA)
    ctx = SerializationContext(topic, MessageField.VALUE)
    written = 0
    for event in events:
        value = serializer(avro_typed(event, schema), ctx) or b""
        written += len(value)
        cloud = h.CloudEvent(
            id=event["envelope"]["eventId"], source="/bench", type="Create", time=datetime.now(UTC)
        )
        headers: list[tuple[str, str | bytes | None]] = [
            (k, v) for k, v in cloud.headers().items() if v is not None
        ]
        producer.produce(
            topic, key=event["data"]["salesorderid"].encode(), value=value, headers=headers
        )
        producer.poll(0)
    producer.flush(60)
    return written


def preload_xref(
    *, producer: Producer, serdes: SerdeFactory, topic: str, pool: list[tuple[str, str]]
) -> None:
    """Link every customer's D365 id to its S/4 business partner in ``xref.ids``."""
    serializer = serdes.serializer(value_schema=XREF_SCHEMA)
    ctx = SerializationContext(topic, MessageField.VALUE)
    for d365, s4 in pool:
        reference = cross_reference("account", d365_id=d365, s4_id=s4)
        producer.produce(topic, key=f"account:{d365}".encode(), value=serializer(reference, ctx))
        producer.poll(0)
    producer.flush(60)


def load_sample(repo: Path) -> dict[str, Any]:
    """The shipped sales-order sample event."""
    sample: dict[str, Any] = json.loads(
        (repo / "flows" / "samples" / "d365-salesorder-created.json").read_text()
    )
    return sample
