"""Scanning a topic reads every committed record once, across transaction markers."""

from __future__ import annotations

import threading

import pytest
from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import NewTopic

from isthmus.kafka.scan import ScanError, TopicTable, scan_topic, watermarks
from isthmus.testing.kafka import Broker, create_topics

pytestmark = pytest.mark.integration


def test_scan_reads_committed_records_and_stops_at_the_end(
    kafka_broker: Broker, unique_name
) -> None:
    topic = unique_name("scan")
    create_topics(kafka_broker, topic, partitions=3)
    plain = Producer(kafka_broker.settings.client_config())
    for i in range(10):
        plain.produce(topic, key=f"k{i}", value=f"plain-{i}")
    plain.flush(30)
    transactional = Producer(
        {**kafka_broker.settings.client_config(), "transactional.id": unique_name("tx")}
    )
    transactional.init_transactions(30)
    transactional.begin_transaction()
    transactional.produce(topic, key="k-committed", value="committed")
    transactional.commit_transaction(30)
    transactional.begin_transaction()
    transactional.produce(topic, key="k-aborted", value="aborted")
    transactional.abort_transaction(30)

    values = sorted(m.value() or b"" for m in scan_topic(kafka=kafka_broker.settings, topic=topic))

    assert values == sorted([f"plain-{i}".encode() for i in range(10)] + [b"committed"])


def test_scan_of_an_empty_topic_ends_at_once(kafka_broker: Broker, unique_name) -> None:
    topic = unique_name("empty")
    create_topics(kafka_broker, topic, partitions=2)

    assert list(scan_topic(kafka=kafka_broker.settings, topic=topic, timeout_s=10)) == []


def test_scan_of_a_missing_topic_says_so(kafka_broker: Broker, unique_name) -> None:
    with pytest.raises(ScanError, match="does not exist"):
        list(scan_topic(kafka=kafka_broker.settings, topic=unique_name("missing")))


def test_offsets_of_a_topic_created_a_moment_ago_wait_for_its_leaders(
    kafka_broker: Broker, unique_name
) -> None:
    topic = unique_name("fresh")
    admin = kafka_broker.admin()
    for future in admin.create_topics([NewTopic(topic, num_partitions=6)]).values():
        future.result(30)  # the controller accepted it; leaders may not be elected yet
    consumer = Consumer({**kafka_broker.settings.client_config(), "group.id": unique_name("g")})
    try:
        ends = watermarks(consumer, topic, timeout_s=30)
    finally:
        consumer.close()

    assert ends == dict.fromkeys(range(6), (0, 0))


def test_a_followed_table_applies_a_record_without_waiting_for_more(
    kafka_broker: Broker, unique_name
) -> None:
    # One record every 50 ms for up to 15 s, until the first is applied: a follower that
    # waited for a batch of 500 (or its 60 s poll) would apply all 300 at once.
    topic = unique_name("table")
    create_topics(kafka_broker, topic, partitions=1)
    table = TopicTable(
        kafka=kafka_broker.settings, topics=[topic], name=unique_name("follow"), idle_poll_s=60
    )
    table.load(lambda _message: None, timeout_s=30)
    sent: list[bytes] = []
    seen: list[list[bytes]] = []
    first_applied = threading.Event()

    def apply(_message: Message) -> None:
        if not first_applied.is_set():
            seen.append(list(sent))
            first_applied.set()

    table.follow(apply)
    producer = Producer(kafka_broker.settings.client_config())

    def send(value: bytes) -> None:
        producer.produce(topic, key="k", value=value)
        producer.flush(30)

    for number in range(300):
        sent.append(f"v{number}".encode())
        send(sent[-1])
        if first_applied.wait(0.05):
            break
    applied = first_applied.wait(60)
    closing = threading.Thread(target=table.close)
    closing.start()
    while closing.is_alive():  # a record ends the follower's 60 s poll, so it sees the stop
        send(b"wake")
        closing.join(0.2)

    assert applied and seen and b"v299" not in seen[0]
