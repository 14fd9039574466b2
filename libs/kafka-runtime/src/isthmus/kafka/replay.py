"""Move chosen dead letters back to their source topics (the library behind ``isthmus replay``).

A replayed record keeps its key, value and headers; its ``isthmus_error_attempt`` goes up by one
and ``isthmus_replayed_from`` names the DLQ record. The replay group's committed offsets on the
DLQ remember what was moved (``replay_marks``), so nothing is replayed twice by accident.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from isthmus.kafka import headers as h
from isthmus.kafka.errors import ReplayError
from isthmus.kafka.replay_marks import ReplayMarks
from isthmus.kafka.settings import KafkaSettings
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (records moved so far, records to move)."""


@dataclass(frozen=True)
class ReplaySelection:
    """Which DLQ records to move; every criterion given must match (None: any)."""

    partitions: frozenset[int] | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    keys: frozenset[bytes] | None = None
    error_classes: frozenset[str] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, letter: DeadLetter) -> bool:
        """True when ``letter`` is inside the selection (time: when it was dead-lettered)."""
        checks = (
            self.start_offset is None or letter.offset >= self.start_offset,
            self.end_offset is None or letter.offset <= self.end_offset,
            self.keys is None or letter.key in self.keys,
            self.error_classes is None
            or (letter.info is not None and letter.info.error_class in self.error_classes),
            self.since is None or letter.time >= self.since,
            self.until is None or letter.time < self.until,
        )
        return all(checks)


@dataclass(frozen=True)
class DeadLetter:
    """One record of a DLQ with its decoded error context."""

    partition: int
    offset: int
    time: datetime
    key: bytes | None
    value: bytes | None
    headers: h.Headers
    info: h.ErrorInfo | None

    @classmethod
    def of(cls, message: Message) -> DeadLetter:
        """Wrap a consumed DLQ message."""
        headers = h.of(message)
        millis = message.timestamp()[1]
        return cls(
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            time=datetime.fromtimestamp(millis / 1000, tz=UTC),
            key=message.key(),
            value=message.value(),
            headers=headers,
            info=h.read_error_info(headers),
        )


@dataclass
class ReplayReport:
    """What a replay examined and moved."""

    dlq: str
    dry_run: bool
    examined: int = 0
    already_replayed: int = 0
    selected: list[DeadLetter] = field(default_factory=list)
    moved: int = 0
    by_target: Counter[str] = field(default_factory=Counter)


def replay_group(dlq: str) -> str:
    """The consumer group whose committed offsets on ``dlq`` remember the replays."""
    return f"{dlq}.replay"


def replay_dead_letters(
    *,
    kafka: KafkaSettings,
    dlq: str,
    selection: ReplaySelection,
    dry_run: bool = False,
    progress: Progress | None = None,
    timeout_s: float = 30.0,
) -> ReplayReport:
    """Move the selected, not yet replayed records of ``dlq`` back to their source topics.

    Args:
        kafka: how to reach the cluster.
        dlq: the dead-letter topic, e.g. ``sap-sink.dlq``.
        selection: which records; records replayed before are always skipped.
        dry_run: only report what would be moved; nothing is produced or committed.
        progress: called after each record moved (bulk replays show a progress bar).
        timeout_s: bound for reading the DLQ and for the broker's acknowledgements.

    Raises:
        ReplayError: the DLQ is missing, a selected record has no source topic in its error
            headers, or the broker did not acknowledge the moved records (nothing committed).
    """
    consumer = Consumer(_consumer_config(kafka, dlq))
    report = ReplayReport(dlq=dlq, dry_run=dry_run)
    try:
        marks = _read_marks(consumer, dlq, selection)
        for letter in _read(consumer, dlq, marks, selection, timeout_s):
            report.examined += 1
            if marks[letter.partition].replayed(letter.offset):
                report.already_replayed += 1
            elif selection.matches(letter):
                report.selected.append(letter)
        if not dry_run and report.selected:
            updated = _updated_marks(marks, report)
            _move(kafka, report, progress=progress, timeout_s=timeout_s)
            _commit(consumer, dlq, updated)
    finally:
        consumer.close()
    return report


def _consumer_config(kafka: KafkaSettings, dlq: str) -> dict[str, str | int | float | bool]:
    return {
        **kafka.client_config(),
        "group.id": replay_group(dlq),
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "enable.partition.eof": True,
    }


def _read_marks(consumer: Consumer, dlq: str, selection: ReplaySelection) -> dict[int, ReplayMarks]:
    try:
        described = consumer.list_topics(dlq, timeout=10).topics.get(dlq)
    except KafkaException as exc:
        raise ReplayError(f"cannot read metadata of {dlq}: {exc}") from exc
    if described is None or described.error is not None or not described.partitions:
        raise ReplayError(f"dead-letter topic {dlq} does not exist")
    chosen = selection.partitions
    wanted = sorted(p for p in described.partitions if chosen is None or p in chosen)
    if not wanted:
        raise ReplayError(f"{dlq} has none of the partitions {sorted(chosen or ())}")
    committed = consumer.committed([TopicPartition(dlq, p) for p in wanted], timeout=10)
    return {
        tp.partition: ReplayMarks.parse(committed=tp.offset, metadata=tp.metadata)
        for tp in committed
    }


def _read(
    consumer: Consumer,
    dlq: str,
    marks: dict[int, ReplayMarks],
    selection: ReplaySelection,
    timeout_s: float,
) -> Iterator[DeadLetter]:
    starts: list[TopicPartition] = []
    for partition, mark in marks.items():
        low, high = consumer.get_watermark_offsets(TopicPartition(dlq, partition), timeout=10)
        start = max(low, mark.committed, selection.start_offset or 0)
        if start < high:
            starts.append(TopicPartition(dlq, partition, start))
    if not starts:
        return
    consumer.assign(starts)
    remaining = {tp.partition for tp in starts}
    deadline = time.monotonic() + timeout_s
    while remaining:
        if time.monotonic() > deadline:
            raise ReplayError(f"{dlq}: not read to its end within {timeout_s}s")
        # consume() waits for a full batch or the timeout, so keep the timeout short
        for message in consumer.consume(num_messages=500, timeout=0.2):
            error = message.error()
            if error is not None:
                if error.code() != KafkaError._PARTITION_EOF:
                    raise ReplayError(f"{dlq}: {error}")
                remaining.discard(message.partition() or 0)
            elif message.partition() in remaining:
                yield DeadLetter.of(message)


def _move(
    kafka: KafkaSettings, report: ReplayReport, *, progress: Progress | None, timeout_s: float
) -> None:
    producer = Producer({**kafka.client_config(), "enable.idempotence": True, "acks": "all"})
    failures: list[str] = []

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(str(error))
        else:
            report.moved += 1
            if progress is not None:
                progress(report.moved, len(report.selected))

    for letter in report.selected:
        target = _target(report.dlq, letter)
        producer.produce(
            target,
            letter.value,
            letter.key,
            headers=list(_replay_headers(report.dlq, letter)),
            on_delivery=delivered,
        )
        report.by_target[target] += 1
        producer.poll(0)
    producer.flush(timeout_s)
    if failures or report.moved != len(report.selected):
        raise ReplayError(
            f"{report.moved} of {len(report.selected)} records acknowledged; DLQ offsets not "
            f"committed, replaying again may duplicate: {'; '.join(failures[:3])}"
        )
    RuntimeMetrics.create().replayed.add(report.moved, {"dlq": report.dlq})


def _target(dlq: str, letter: DeadLetter) -> str:
    if letter.info is None:
        raise ReplayError(
            f"{dlq}/{letter.partition}@{letter.offset} has no isthmus_error_* headers; "
            "its source topic is unknown"
        )
    return letter.info.source_topic


def _replay_headers(dlq: str, letter: DeadLetter) -> h.Headers:
    attempt = (letter.info.attempt if letter.info else 0) + 1
    return h.merge(
        letter.headers,
        {
            h.ERROR_ATTEMPT: str(attempt).encode(),
            h.REPLAYED_FROM: f"{dlq}/{letter.partition}/{letter.offset}".encode(),
        },
    )


def _updated_marks(marks: dict[int, ReplayMarks], report: ReplayReport) -> list[TopicPartition]:
    moved: dict[int, list[int]] = {}
    for letter in report.selected:
        moved.setdefault(letter.partition, []).append(letter.offset)
    offsets = []
    for partition, offsets_moved in moved.items():
        updated = marks[partition].add(offsets_moved)
        try:
            metadata = updated.metadata()
        except ValueError as exc:
            raise ReplayError(f"{report.dlq}/{partition}: {exc}") from exc
        offsets.append(TopicPartition(report.dlq, partition, updated.committed, metadata=metadata))
    return offsets


def _commit(consumer: Consumer, dlq: str, offsets: list[TopicPartition]) -> None:
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        raise ReplayError(
            f"{dlq}: records moved but the replay marks were not committed: {exc}"
        ) from exc
