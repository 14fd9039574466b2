"""Scanning a topic reads every committed record once, across transaction markers."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import NewTopic

from isthmus.kafka.scan import ScanError, scan_topic, watermarks
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
