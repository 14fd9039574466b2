"""Poison records land in the DLQ with their error headers; the records after them flow on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.serialization import StringDeserializer, StringSerializer

from isthmus.kafka import headers as h
from isthmus.kafka.errors import InvalidRecordError
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.settings import ProcessorSettings
from isthmus.testing.kafka import Broker, drain

from .avro import order_serde
from .conftest import Group, group_loop, produce, running, wait_for

pytestmark = pytest.mark.integration


def test_poison_records_are_dead_lettered_with_error_headers_and_later_records_processed(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group()
    serializer, deserializer = order_serde()

    def handler(record: Record[str, dict[str, Any]]) -> list[Output]:
        if record.value["amount"] < 0:
            raise InvalidRecordError("amount must not be negative")
        return [Output(topic=group.output, key=record.key, value=record.value)]

    def order(i: int, amount: float = 10.0) -> bytes:
        value = serializer({"order_id": f"o{i}", "amount": amount}, None)
        assert value is not None
        return value

    unknown_fingerprint = b"\xc3\x01" + bytes(8) + b"\x02a"
    unknown_schema_id = b"\x00" + (999).to_bytes(4, "big") + b"\x02a"
    inputs = [
        (b"o0", order(0)),
        (b"o1", b"not avro at all"),
        (b"o2", order(2)),
        (b"o3", unknown_fingerprint),
        (b"o4", order(4, amount=-1.0)),
        (b"o5", unknown_schema_id),
        (b"o6", order(6)),
    ]
    produce(kafka_broker, group.source, inputs, headers=[("ce_id", b"evt-1")])
    processor = group_loop(
        kafka_broker,
        group,
        handler,
        key_deserializer=StringDeserializer(),
        value_deserializer=deserializer,
        key_serializer=StringSerializer(),
        value_serializer=serializer,
    )
    with running(processor) as codes:
        outputs = drain(kafka_broker, group.output, expected=3)
        dead = drain(kafka_broker, group.routes.dlq, expected=4)
    assert codes == [0]
    assert [m.key() for m in outputs] == [b"o0", b"o2", b"o6"]
    assert [(m.key(), m.value()) for m in dead] == [inputs[1], inputs[3], inputs[4], inputs[5]]
    infos = [h.read_error_info(h.of(m)) for m in dead]
    assert all(info is not None for info in infos)
    assert [(i.error_class, i.stage, i.source_offset, i.attempt) for i in infos if i] == [
        ("invalid", "decode", 1, 1),
        ("invalid", "decode", 3, 1),
        ("invalid", "handle", 4, 1),
        ("invalid", "decode", 5, 1),
    ]
    assert all(i.source_topic == group.source and i.source_partition == 0 for i in infos if i)
    assert "fingerprint" in (infos[1].message if infos[1] else "").lower()
    assert "negative" in (infos[2].message if infos[2] else "")
    assert "UnknownSchemaIdError" in (infos[3].message if infos[3] else "")
    assert all(h.get(h.of(m), "ce_id") == b"evt-1" for m in dead)


def test_a_fatal_handler_error_stops_the_loop_with_a_nonzero_code_and_commits_nothing_of_it(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group()

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        if record.value == b"bug":
            raise KeyError("a bug in the handler")
        return [Output(topic=group.output, key=record.key, value=record.value)]

    produce(kafka_broker, group.source, [(b"a", b"fine"), (b"b", b"bug"), (b"c", b"later")])
    processor = ConsumeLoop.for_handler(
        kafka=kafka_broker.settings,
        settings=ProcessorSettings(group_id=group.name, exactly_once=True),
        topics=[group.source],
        handler=handler,
        routes=group.routes,
    )
    with running(processor) as codes:
        wait_for(lambda: bool(codes))
    assert codes == [1]
    assert drain(kafka_broker, group.output, timeout_s=3) == []
    assert drain(kafka_broker, group.routes.dlq, timeout_s=3) == []
