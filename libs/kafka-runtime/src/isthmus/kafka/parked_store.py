"""Load the parked-key set of a consumer group from its compacted ``<group>.parked`` topic."""

from __future__ import annotations

import logging
import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from isthmus.kafka.errors import FatalError
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)


def load_parked(
    *, kafka: KafkaSettings, topic: str, keys: ParkedKeys, timeout_s: float = 30.0
) -> None:
    """Replace ``keys`` with the committed contents of ``topic``, read to its end.

    Raises:
        FatalError: the topic does not exist or could not be read to its end in time.
    """
    consumer = Consumer(
        {
            **kafka.client_config(),
            "group.id": f"isthmus-parked-loader-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = _partitions(consumer, topic)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        keys.clear()
        _read_to_end(consumer, keys, remaining=set(partitions), timeout_s=timeout_s)
    finally:
        consumer.close()
    logger.info("parked keys loaded", extra={"topic": topic, "keys": len(keys)})


def _partitions(consumer: Consumer, topic: str) -> list[int]:
    try:
        metadata = consumer.list_topics(topic, timeout=10)
    except KafkaException as exc:
        raise FatalError(f"cannot read metadata of {topic}: {exc}") from exc
    described = metadata.topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise FatalError(f"parking topic {topic} does not exist; provision the group's topics")
    return sorted(described.partitions)


def _read_to_end(
    consumer: Consumer, keys: ParkedKeys, *, remaining: set[int], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while remaining:
        if time.monotonic() > deadline:
            raise FatalError(f"parked keys not loaded within {timeout_s}s")
        for message in consumer.consume(num_messages=1_000, timeout=0.2):
            error = message.error()
            if error is not None and error.code() == KafkaError._PARTITION_EOF:
                remaining.discard(message.partition() or 0)
            elif error is None and message.key() is not None:
                keys.apply(message.key() or b"", message.value())
