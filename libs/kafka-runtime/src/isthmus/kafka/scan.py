"""Read a whole topic once, from its first offset to the end it had when the scan started."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.kafka.settings import KafkaSettings

_METADATA_TIMEOUT_S = 10.0
_LEADERLESS = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._UNKNOWN_PARTITION,
    }
)


class ScanError(IsthmusKafkaError):
    """The topic does not exist, or could not be read to its end in time."""


def scan_topic(*, kafka: KafkaSettings, topic: str, timeout_s: float = 60.0) -> Iterator[Message]:
    """Yield every committed record of ``topic``, partition by partition interleaved.

    The end is each partition's high watermark when the scan starts, so a busy topic still
    ends the scan. No group offsets are committed.

    Raises:
        ScanError: the topic is missing or its end was not reached within ``timeout_s``.
    """
    consumer = Consumer(
        {
            **kafka.client_config(),
            "group.id": f"isthmus-scan-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        ends = _ends(consumer, topic)
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _high) in ends.items()])
        remaining = {p: high for p, (low, high) in ends.items() if high > low}
        yield from _read(consumer, remaining, deadline=time.monotonic() + timeout_s, topic=topic)
    finally:
        consumer.close()


def _ends(consumer: Consumer, topic: str) -> dict[int, tuple[int, int]]:
    return watermarks(consumer, topic, timeout_s=_METADATA_TIMEOUT_S)


def watermarks(consumer: Consumer, topic: str, *, timeout_s: float) -> dict[int, tuple[int, int]]:
    """``{partition: (low, high)}`` of every partition of ``topic``.

    A topic created a moment ago may not be in the metadata or have elected its leaders yet;
    those transient errors (not leader, leader not available, unknown topic or partition) are
    retried until ``timeout_s``.

    Raises:
        ScanError: the topic does not exist, or its offsets could not be read in time.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return _watermarks_once(consumer, topic, timeout_s=timeout_s)
        except ScanError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            transient = isinstance(error, KafkaError) and error.code() in _LEADERLESS
            if not transient or time.monotonic() > deadline:
                raise ScanError(f"cannot read the offsets of {topic}: {exc}") from exc
            time.sleep(0.2)


def _watermarks_once(
    consumer: Consumer, topic: str, *, timeout_s: float
) -> dict[int, tuple[int, int]]:
    described = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if described is None or described.error is not None or not described.partitions:
        raise ScanError(f"topic {topic} does not exist")
    return {
        partition: consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=timeout_s
        )
        for partition in sorted(described.partitions)
    }


def _read(
    consumer: Consumer, remaining: dict[int, int], *, deadline: float, topic: str
) -> Iterator[Message]:
    while remaining:
        if time.monotonic() > deadline:
            raise ScanError(f"{topic} not read to its end in time; partitions left: {remaining}")
        for message in consumer.consume(num_messages=1_000, timeout=0.2):
            if message.error() is None and (message.partition() or 0) in remaining:
                yield message
        # The position passes transaction markers and aborted records, which are never
        # delivered, so it (not the last offset seen) tells when a partition is done.
        positions = consumer.position([TopicPartition(topic, p) for p in remaining])
        for position in positions:
            if position.offset >= remaining[position.partition]:
                del remaining[position.partition]
