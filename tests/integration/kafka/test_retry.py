"""Retryable failures go through the delayed retry topics; later records of the key wait."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.errors import RetryableError
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.parking import PARKED_SCHEMA, ParkedCodec
from isthmus.kafka.records import Output, Record
from isthmus.kafka.settings import ProcessorSettings
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, produce, running, wait_for

pytestmark = pytest.mark.integration


def test_retry_topics_succeed_on_the_third_attempt_and_keep_per_key_order_across_a_restart(
    kafka_broker: Broker, make_group: Callable[..., Group], repo_root: Path
) -> None:
    group = make_group()
    calls: Counter[bytes] = Counter()
    schemas = SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas"))
    serdes = schemas.pair(value_schema=PARKED_SCHEMA)

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        calls[record.value] += 1
        if record.value == b"a1" and calls[b"a1"] <= 2:
            raise RetryableError("target unavailable")
        value = record.value + b"@" + str(record.attempt).encode()
        return [Output(topic=group.output, key=record.key, value=value)]

    def processor() -> ConsumeLoop:
        return ConsumeLoop.for_handler(
            kafka=kafka_broker.settings,
            settings=ProcessorSettings(group_id=group.name, in_place_attempts=1),
            topics=[group.source],
            handler=handler,
            routes=group.routes,
            parked_codec=ParkedCodec(
                serializer=serdes.serializer, deserializer=serdes.deserializer
            ),
        )

    produce(kafka_broker, group.source, [(b"A", b"a1"), (b"A", b"a2"), (b"B", b"b1")])
    with running(processor()):
        first = drain(kafka_broker, group.output, expected=1)
        wait_for(lambda: calls[b"a2"] == 0 and calls[b"a1"] >= 1)
    assert [m.value() for m in first] == [b"b1@0"]  # B flowed past the parked key A
    with running(processor()):  # a fresh loop must still know that A is parked
        produce(kafka_broker, group.source, [(b"A", b"a3"), (b"C", b"c1")])
        outputs = drain(kafka_broker, group.output, expected=5)
    values = [m.value() or b"" for m in outputs]
    assert values[0] == b"b1@0"
    assert [v for v in values if v.startswith(b"a")] == [b"a1@2", b"a2@0", b"a3@0"]
    assert set(values) == {b"b1@0", b"c1@0", b"a1@2", b"a2@0", b"a3@0"}
    assert calls[b"a1"] == 3
    assert values.index(b"c1@0") < values.index(b"a1@2")  # C did not wait for A either
    a1_in = drain(kafka_broker, group.source, expected=5)[0].timestamp()[1]
    a1_out = next(m for m in outputs if m.value() == b"a1@2").timestamp()[1]
    assert a1_out - a1_in >= sum(tier.delay_ms for tier in group.routes.tiers)
    parked = drain(kafka_broker, group.routes.parked, expected=1)
    stream = group.source.encode() + b"\x00A"  # parked per source topic and key
    assert parked and parked[-1].key() == stream and parked[-1].value() is None  # released
    first_state = parked[0].value()
    assert first_state is not None and parked[0].key() == stream
    reader = schemas.deserializer(value_schema=PARKED_SCHEMA)  # the catalogue's schema
    decoded = reader(first_state, SerializationContext(group.routes.parked, MessageField.VALUE))
    assert decoded is not None
    assert (decoded["consumerGroup"], decoded["sourceTopic"], decoded["key"]) == (
        group.name,
        group.source,
        "A",
    )
    assert [(o["sourcePartition"], o["sourceOffset"]) for o in decoded["origins"]] == [(0, 0)]
    assert decoded["origins"][0]["retryTopic"] == group.routes.tiers[0].topic


def test_after_the_last_tier_a_retryable_record_is_dead_lettered_and_its_key_released(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group(delays_ms=(1_000,))

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        if record.value == b"x1":
            raise RetryableError("still down")
        return [Output(topic=group.output, key=record.key, value=record.value)]

    produce(kafka_broker, group.source, [(b"X", b"x1"), (b"X", b"x2")])
    processor = ConsumeLoop.for_handler(
        kafka=kafka_broker.settings,
        settings=ProcessorSettings(
            group_id=group.name, in_place_attempts=2, in_place_backoff_s=0.01
        ),
        topics=[group.source],
        handler=handler,
        routes=group.routes,
    )
    with running(processor):
        dead = drain(kafka_broker, group.routes.dlq, expected=1)
        outputs = drain(kafka_broker, group.output, expected=1)
    assert [m.value() for m in dead] == [b"x1"]
    assert [m.value() for m in outputs] == [b"x2"]


def test_a_retry_partition_paused_across_a_rebalance_is_resumed_when_its_record_is_due(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    """Eager (range) assignment gives a paused partition back still paused (the transformer's
    strategy); the loop must resume it, having forgotten its pause on revoke."""
    group = make_group(partitions=2, delays_ms=(6_000,))
    calls: Counter[bytes] = Counter()

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        calls[record.value] += 1
        if calls[record.value] == 1:
            raise RetryableError("prerequisite not there yet")
        return [Output(topic=group.output, key=record.key, value=record.value)]

    def processor() -> ConsumeLoop:
        return ConsumeLoop.for_handler(
            kafka=kafka_broker.settings,
            settings=ProcessorSettings(
                group_id=group.name,
                in_place_attempts=1,
                consumer_extra={"partition.assignment.strategy": "range"},
            ),
            topics=[group.source],
            handler=handler,
            routes=group.routes,
        )

    values = [f"k{n}".encode() for n in range(8)]
    produce(kafka_broker, group.source, [(value, value) for value in values])
    with running(processor()):
        # Every record failed once: the retry partitions are paused until the records are due.
        wait_for(lambda: all(calls[value] == 1 for value in values))
        with running(processor()):  # a second member joins and leaves before they are due
            wait_for(lambda: len(calls) == len(values), timeout_s=5)
            time.sleep(2)
        outputs = drain(kafka_broker, group.output, expected=len(values), timeout_s=40)
    assert sorted(m.value() or b"" for m in outputs) == values
