"""Fixtures of the Kafka runtime's integration tests: per-test group topics and a loop runner."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Handler
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import ProcessorSettings
from isthmus.testing.kafka import Broker, UniqueNames, create_topics

TEST_DELAYS_MS = (1_000, 2_000)


@dataclass(frozen=True)
class Group:
    """A test-unique consumer group with its input, output and routing topics."""

    name: str
    source: str
    output: str
    routes: Routes


@pytest.fixture
def make_group(kafka_broker: Broker, unique_name: UniqueNames) -> Callable[..., Group]:
    """Create a fresh group: input/output topics, ``<group>.retry.1s/.2s``, dlq and parked."""

    def make(*, partitions: int = 1, delays_ms: Sequence[int] = TEST_DELAYS_MS) -> Group:
        name = unique_name("grp")
        routes = Routes.from_delays(group=name, delays_ms=delays_ms)
        source = f"{name}-in"
        output = f"{name}-out"
        create_topics(kafka_broker, source, output, *routes.retry_topics, partitions=partitions)
        create_topics(kafka_broker, routes.dlq, partitions=1)
        create_topics(kafka_broker, routes.parked, partitions=1, **{"cleanup.policy": "compact"})
        return Group(name=name, source=source, output=output, routes=routes)

    return make


def group_loop(
    broker: Broker, group: Group, handler: Handler[object, object], **options: Any
) -> ConsumeLoop:
    """A loop of ``group``'s consumer group on its source topic, routing failures by its routes."""
    return ConsumeLoop.for_handler(
        kafka=broker.settings,
        settings=ProcessorSettings(group_id=group.name),
        topics=[group.source],
        handler=handler,
        routes=group.routes,
        **options,
    )


def produce(
    broker: Broker,
    topic: str,
    records: Sequence[tuple[bytes | None, bytes | None]],
    *,
    headers: Sequence[tuple[str, bytes]] = (),
) -> None:
    """Produce ``(key, value)`` pairs in order and wait until the broker has them all."""
    producer = Producer({**broker.settings.client_config(), "enable.idempotence": True})
    for key, value in records:
        producer.produce(topic, value, key, headers=list(headers) or None)
    assert producer.flush(30) == 0


@contextmanager
def running(processor: ConsumeLoop) -> Iterator[list[int]]:
    """Run the loop in a thread for the block; stop it and wait on exit. Yields [exit code]."""
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(processor.run()), daemon=True)
    thread.start()
    try:
        yield codes
    finally:
        processor.stop()
        thread.join(timeout=60)
        assert not thread.is_alive(), "processor did not stop within 60 s"


def wait_for_output(broker: Broker, topic: str, *, timeout_s: float = 30.0) -> None:
    """Return as soon as a read_committed consumer sees one record on ``topic``."""
    consumer = Consumer(
        {
            **broker.settings.client_config(),
            "group.id": f"peek-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.subscribe([topic])
    try:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                return
    finally:
        consumer.close()
    raise AssertionError(f"no record on {topic} within {timeout_s}s")


def wait_for(condition: Callable[[], bool], *, timeout_s: float = 30.0) -> None:
    """Poll ``condition`` every 0.1 s until it is true, failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        time.sleep(0.1)
