"""Reading topics by assignment: a whole topic once, or a table kept current by a thread.

The one reader of the topics whose latest record per key is the state (``xref.ids``, a group's
``<group>.parked``, the ``state.*`` topics, the ingress's checkpoints) and of a whole topic once
(``scan_topic``: ``isthmus trace``, the fault oracle). It joins no consumer group and commits
nothing, because every replica needs the whole table, and reads committed records only.

``TopicTable.load`` reads to the end each partition had when the load began: the position, not
the last offset seen, tells when a partition is done, because transaction markers and aborted
records are never delivered. ``TopicTable.follow`` goes on reading in a background thread from
there (or from the beginning, without a load).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.kafka.polling import take
from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)
Apply = Callable[[Message], None]
"""What a table does with one record (a tombstone has the value None)."""

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
    table = TopicTable(kafka=kafka, topics=[topic], name="scan")
    try:
        yield from table.records(timeout_s=timeout_s)
    finally:
        table.close()


class TopicTable:
    """Topics read from their first offset by assignment: loaded to their end, then followed."""

    def __init__(self, *, kafka: KafkaSettings, topics: Sequence[str], name: str) -> None:
        self._topics = list(topics)
        self._name = name
        self._consumer = Consumer(
            {
                **kafka.client_config(),
                "group.id": f"isthmus-{name}-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        self._ends: dict[tuple[str, int], int] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def topics(self) -> list[str]:
        """The topics read."""
        return list(self._topics)

    def records(self, *, timeout_s: float, missing_ok: bool = False) -> Iterator[Message]:
        """Every committed record up to the end each partition had when this began.

        Raises:
            ScanError: a topic is missing (unless ``missing_ok``: it is then left out) or the
                end was not reached within ``timeout_s``.
        """
        ends = self._assign(missing_ok=missing_ok)
        yield from _read(self._consumer, ends, deadline=time.monotonic() + timeout_s)

    def load(self, apply: Apply, *, timeout_s: float, missing_ok: bool = False) -> int:
        """``apply`` every committed record up to the current end; how many there were.

        Raises:
            ScanError: as ``records``.
        """
        count = 0
        for message in self.records(timeout_s=timeout_s, missing_ok=missing_ok):
            apply(message)
            count += 1
        return count

    def follow(self, apply: Apply) -> None:
        """Go on reading in a background thread: after ``load`` from where it ended, else from
        the beginning (a topic that does not exist is left out, with a warning)."""
        if self._ends is None:
            self._assign(missing_ok=True)
        self._thread = threading.Thread(
            target=self._follow, args=(apply,), name=f"{self._name}-reader", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop following and close the consumer."""
        self._stop.set()
        if self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=10)
        self._consumer.close()

    def _assign(self, *, missing_ok: bool) -> dict[tuple[str, int], int]:
        ends: dict[tuple[str, int], int] = {}
        assignment = []
        for topic in self._topics:
            try:
                offsets = watermarks(self._consumer, topic, timeout_s=_METADATA_TIMEOUT_S)
            except ScanError:
                if not missing_ok:
                    raise
                logger.warning("topic %s not found; %s reads without it", topic, self._name)
                continue
            for partition, (low, high) in offsets.items():
                assignment.append(TopicPartition(topic, partition, low))
                if high > low:
                    ends[(topic, partition)] = high
        self._consumer.assign(assignment)
        self._ends = ends
        return dict(ends)

    def _follow(self, apply: Apply) -> None:
        try:
            while not self._stop.is_set():
                for message in take(self._consumer, 500, timeout=0.5):
                    error = message.error()
                    if error is None:
                        apply(message)
                    elif error.code() != KafkaError._PARTITION_EOF:
                        logger.warning("%s reader: %s", self._name, error)
        except KafkaException as exc:
            logger.error("%s reader stopped: %s", self._name, exc)


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
    consumer: Consumer, remaining: dict[tuple[str, int], int], *, deadline: float
) -> Iterator[Message]:
    while remaining:
        if time.monotonic() > deadline:
            raise ScanError(f"not read to the end in time; partitions left: {sorted(remaining)}")
        for message in consumer.consume(num_messages=1_000, timeout=0.2):
            slot = (message.topic() or "", message.partition() or 0)
            if message.error() is None and slot in remaining:
                yield message
        # The position passes transaction markers and aborted records, which are never
        # delivered, so it (not the last offset seen) tells when a partition is done.
        positions = consumer.position([TopicPartition(t, p) for t, p in remaining])
        for position in positions:
            slot = (position.topic, position.partition)
            if position.offset >= remaining[slot]:
                del remaining[slot]
