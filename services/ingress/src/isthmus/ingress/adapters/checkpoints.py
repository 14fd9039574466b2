"""Poller checkpoints in the compacted ``ingress.checkpoints`` topic (key = poller id)."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition

from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas import AvroDeserializer, DecodeError

logger = logging.getLogger(__name__)


def load_checkpoints(
    *,
    settings: KafkaSettings,
    topic: str,
    deserializer: AvroDeserializer,
    budget_s: float = 20.0,
) -> dict[str, dict[str, Any]]:
    """The latest checkpoint per poller id (empty when the topic is missing or empty)."""
    consumer = Consumer(
        {
            **settings.client_config(),
            "group.id": f"ingress-checkpoints-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
        }
    )
    found: dict[str, dict[str, Any]] = {}
    try:
        metadata = consumer.list_topics(topic, timeout=5)
        if topic not in metadata.topics or metadata.topics[topic].error:
            return found
        partitions = [TopicPartition(topic, p, 0) for p in metadata.topics[topic].partitions]
        consumer.assign(partitions)
        _read(consumer, found, deserializer, len(partitions), time.monotonic() + budget_s)
    except KafkaException:
        logger.warning("checkpoints not read (Kafka unavailable); pollers start from scratch")
    finally:
        consumer.close()
    return found


def _read(
    consumer: Consumer,
    found: dict[str, dict[str, Any]],
    deserializer: AvroDeserializer,
    partitions: int,
    deadline: float,
) -> None:
    finished = 0
    while finished < partitions and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error() is not None:
            finished += 1
            continue
        key = (message.key() or b"").decode()
        if message.value() is None:
            found.pop(key, None)
            continue
        try:
            value = deserializer(message.value())
        except DecodeError:
            logger.warning("undecodable checkpoint skipped", extra={"poller": key})
            continue
        if isinstance(value, dict):
            found[key] = value
