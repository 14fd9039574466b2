"""The loop moves every input to the output and commits only what it processed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.serialization import StringDeserializer, StringSerializer

from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.settings import ProcessorSettings
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, produce, running

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("exactly_once", [False, True], ids=["at-least-once", "exactly-once"])
def test_every_input_reaches_the_output_once_and_offsets_are_committed(
    kafka_broker: Broker, make_group: Callable[..., Group], exactly_once: bool
) -> None:
    group = make_group(partitions=3)

    def upper(record: Record[str, str]) -> list[Output]:
        return [Output(topic=group.output, key=record.key, value=record.value.upper())]

    inputs = [(f"k{i % 7}".encode(), f"order-{i}".encode()) for i in range(300)]
    produce(kafka_broker, group.source, inputs)
    processor = ConsumeLoop.for_handler(
        kafka=kafka_broker.settings,
        settings=ProcessorSettings(group_id=group.name, exactly_once=exactly_once, batch_size=50),
        topics=[group.source],
        handler=upper,
        routes=group.routes,
        key_deserializer=StringDeserializer(),
        value_deserializer=StringDeserializer(),
        key_serializer=StringSerializer(),
        value_serializer=StringSerializer(),
    )
    with running(processor) as codes:
        outputs = drain(kafka_broker, group.output, expected=300)
    assert codes == [0]
    assert sorted(m.value() or b"" for m in outputs) == sorted(v.upper() for _, v in inputs)
    assert _committed(kafka_broker, group) == 300


def _committed(broker: Broker, group: Group) -> int:
    admin = broker.admin()
    futures = admin.list_consumer_group_offsets(
        [
            ConsumerGroupTopicPartitions(
                group.name, [TopicPartition(group.source, p) for p in range(3)]
            )
        ]
    )
    result = futures[group.name].result(timeout=30)
    return sum(max(tp.offset, 0) for tp in result.topic_partitions)
