"""A poll takes what has arrived and never waits for its batch to fill."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from confluent_kafka import Consumer, Message, Producer, TopicPartition

from isthmus.kafka.polling import take
from isthmus.testing.kafka import Broker, UniqueNames, create_topics

from .conftest import produce

pytestmark = pytest.mark.integration

WAIT_S = 30.0


@pytest.fixture
def topic(kafka_broker: Broker, unique_name: UniqueNames) -> str:
    name = unique_name("take")
    create_topics(kafka_broker, name, partitions=2)
    return name


@pytest.fixture
def consumer(kafka_broker: Broker, topic: str) -> Iterator[Consumer]:
    reader = Consumer({
        **kafka_broker.settings.client_config(), "group.id": topic, "enable.auto.commit": False,
    })  # fmt: skip
    reader.assign([TopicPartition(topic, p, 0) for p in range(2)])
    yield reader
    reader.close()


def _records(messages: list[Message]) -> list[bytes]:
    return [m.value() or b"" for m in messages if m.error() is None]


def test_a_poll_ends_with_the_first_records_instead_of_waiting_for_more(
    kafka_broker: Broker, topic: str, consumer: Consumer
) -> None:
    # One record every 50 ms for up to 15 s, until the poll is back: a poll that waited for a
    # full batch (or its timeout) would return all 300 records.
    returned = threading.Event()

    def trickle() -> None:
        producer = Producer(kafka_broker.settings.client_config())
        for number in range(300):
            producer.produce(topic, f"v{number}".encode(), b"k")
            producer.flush(30)
            if returned.wait(0.05):
                return

    writer = threading.Thread(target=trickle)
    writer.start()
    try:
        batch = _records(take(consumer, 500, timeout=WAIT_S))
    finally:
        returned.set()
        writer.join()

    assert batch and b"v299" not in batch


def test_a_few_records_come_back_without_waiting_for_a_full_batch(
    kafka_broker: Broker, topic: str, consumer: Consumer
) -> None:
    sent = [(f"k{i}".encode(), f"v{i}".encode()) for i in range(3)]
    produce(kafka_broker, topic, sent)

    taken: list[bytes] = []
    while len(taken) < len(sent):
        taken += _records(take(consumer, 500, timeout=WAIT_S))

    assert sorted(taken) == sorted(v for _, v in sent)


def test_a_record_arriving_during_the_wait_ends_it(
    kafka_broker: Broker, topic: str, consumer: Consumer
) -> None:
    assert take(consumer, 500, timeout=0.2) == []  # nothing there: the timeout, then nothing
    produce(kafka_broker, topic, [(b"k", b"late")])

    taken: list[bytes] = []
    while not taken:
        taken = _records(take(consumer, 500, timeout=WAIT_S))

    assert taken == [b"late"]


def test_a_batch_is_cut_at_its_size(kafka_broker: Broker, topic: str, consumer: Consumer) -> None:
    produce(kafka_broker, topic, [(b"k", f"v{i}".encode()) for i in range(20)])

    sizes: list[int] = []
    while sum(sizes) < 20:
        sizes.append(len(_records(take(consumer, 5, timeout=WAIT_S))))

    assert max(sizes) <= 5
