"""A second replica with the same transactional.id fences the first: it stops, nothing doubles."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest

from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.settings import ProcessorSettings
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, produce, running, wait_for, wait_for_output

pytestmark = pytest.mark.integration


def test_a_fenced_processor_stops_with_code_1_and_its_successor_finishes_exactly_once(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group(partitions=2)

    def slow_copy(record: Record[bytes, bytes]) -> list[Output]:
        time.sleep(0.005)
        return [Output(topic=group.output, key=record.key, value=record.value)]

    def processor() -> ConsumeLoop:
        return ConsumeLoop.for_handler(
            kafka=kafka_broker.settings,
            settings=ProcessorSettings(group_id=group.name, exactly_once=True, batch_size=20),
            topics=[group.source],
            handler=slow_copy,
            routes=group.routes,
        )

    inputs = [(f"k{i % 10}".encode(), f"v{i}".encode()) for i in range(400)]
    produce(kafka_broker, group.source, inputs)
    with running(processor()) as first:
        wait_for_output(kafka_broker, group.output)
        with running(processor()) as second:  # same group and instance id: same transactional.id
            wait_for(lambda: bool(first), timeout_s=60)
            committed = drain(kafka_broker, group.output, expected=len(inputs), timeout_s=60)
        assert first == [1]  # fenced: stopped, not crashed, nonzero
        assert second == [0]
    assert Counter(m.value() for m in committed) == Counter(v for _, v in inputs)


def test_a_second_replica_joining_mid_load_takes_partitions_without_loss_or_duplicates(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group(partitions=4)
    handled_by: dict[str, Counter[bytes]] = {"0": Counter(), "1": Counter()}

    def replica(instance: str) -> ConsumeLoop:
        def slow_copy(record: Record[bytes, bytes]) -> list[Output]:
            time.sleep(0.01)  # slow enough that the second replica joins mid-load
            handled_by[instance][record.value] += 1
            return [Output(topic=group.output, key=record.key, value=record.value)]

        return ConsumeLoop.for_handler(
            kafka=kafka_broker.settings,
            settings=ProcessorSettings(
                group_id=group.name, instance_id=instance, exactly_once=True, batch_size=20
            ),
            topics=[group.source],
            handler=slow_copy,
            routes=group.routes,
        )

    inputs = [(f"k{i % 40}".encode(), f"v{i}".encode()) for i in range(800)]
    produce(kafka_broker, group.source, inputs)
    with running(replica("0")) as first:
        wait_for_output(kafka_broker, group.output)
        with running(replica("1")) as second:
            committed = drain(kafka_broker, group.output, expected=len(inputs), timeout_s=60)
    assert (first, second) == ([0], [0])
    assert Counter(m.value() for m in committed) == Counter(v for _, v in inputs)
    assert handled_by["1"], "the second replica never got a partition"
