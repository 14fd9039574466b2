"""How a batch's outputs and its input offsets reach Kafka: at-least-once or in a transaction.

Both strategies share one contract with the loop: ``begin`` before a batch, ``produce`` for
every record the batch writes, then ``complete(offsets)`` (downstream done, offsets may follow) or
``abandon()`` (nothing of the batch may count; its input will be read again).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from confluent_kafka import (
    OFFSET_BEGINNING,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    Producer,
    TopicPartition,
)

from isthmus.kafka.errors import FatalError, FencedError
from isthmus.kafka.headers import Headers

logger = logging.getLogger(__name__)

Offsets = dict[tuple[str, int], int]
"""Next offset to read per (topic, partition): the last processed offset + 1."""

_FENCED = {KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH}


class BatchAbortedError(Exception):
    """The transaction was aborted; the consumer was rewound to the committed offsets."""


@dataclass
class _Pending:
    offsets: Offsets
    outstanding: int = 0
    sealed: bool = False
    failure: KafkaError | None = None
    on_done: list[Callable[[], None]] = field(default_factory=list)

    def delivered(self, error: KafkaError | None, _message: Message) -> None:
        self.outstanding -= 1
        if error is not None and self.failure is None:
            self.failure = error


class AtLeastOnceDelivery:
    """Outputs are produced asynchronously; a batch's offsets are stored once every output of it
    (and of every earlier batch) is acknowledged by the broker, and librdkafka commits stored
    offsets. A crash re-delivers at most the batches not yet stored.
    """

    def __init__(self, *, consumer: Consumer, producer: Producer, max_in_flight: int) -> None:
        self._consumer = consumer
        self._producer = producer
        self._max_in_flight = max_in_flight
        self._queue: deque[_Pending] = deque()
        self._current: _Pending | None = None
        self.completed: Offsets = {}
        """The highest offset per partition whose batch is done (outputs acknowledged), stored
        or not: what a member that lost its partitions mid-batch finished all the same."""

    def begin(self) -> None:
        """Start tracking a new batch."""
        self._current = _Pending(offsets={})

    def produce(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        """Queue one record of the current batch."""
        batch = self._current
        assert batch is not None, "produce() outside a batch"  # noqa: S101 - programming error
        batch.outstanding += 1
        _produce(
            self._producer, topic, key=key, value=value, headers=headers, callback=batch.delivered
        )

    def complete(self, offsets: Offsets) -> None:
        """Seal the batch; its offsets are stored once all of its outputs are acknowledged.

        Raises:
            FatalError: an earlier output could not be delivered (its input is not committed).
        """
        batch, self._current = self._current, None
        if batch is None:
            return
        batch.offsets, batch.sealed = offsets, True
        self._queue.append(batch)
        self._producer.poll(0)
        while len(self._queue) > self._max_in_flight:
            self._producer.poll(0.05)
            self._store_done()
        self._store_done()

    def abandon(self) -> None:
        """Forget the current batch: its offsets are never stored, so it is read again."""
        self._current = None

    def drain(self, *, timeout_s: float) -> None:
        """Wait for every queued output, then store the offsets of every finished batch.

        Raises:
            FatalError: an output could not be delivered.
        """
        self._producer.flush(timeout_s)
        self._store_done()

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        """Drop offsets of partitions handed to another member (after a clean revoke)."""
        for batch in self._queue:
            for tp in partitions:
                batch.offsets.pop(tp, None)
        for tp in partitions:
            self.completed.pop(tp, None)

    def _store_done(self) -> None:
        while self._queue and self._queue[0].outstanding == 0:
            batch = self._queue.popleft()
            if batch.failure is not None:
                raise FatalError(f"output not delivered, input not committed: {batch.failure}")
            for tp, offset in batch.offsets.items():
                self.completed[tp] = max(self.completed.get(tp, offset), offset)
            _store(self._consumer, batch.offsets)


class ExactlyOnceDelivery:
    """Each batch is one Kafka transaction holding its outputs and its input offsets
    (``send_offsets_to_transaction`` with the consumer's group metadata).
    """

    def __init__(self, *, consumer: Consumer, producer: Producer, timeout_s: float) -> None:
        self._consumer = consumer
        self._producer = producer
        self._timeout_s = timeout_s
        self._open = False

    def init(self) -> None:
        """Register the transactional.id, fencing older producers and aborting their work.

        Raises:
            FencedError: a newer producer owns the id.
        """
        self._call(self._producer.init_transactions)

    def begin(self) -> None:
        """Open the batch's transaction."""
        self._call(lambda _timeout: self._producer.begin_transaction())
        self._open = True

    def produce(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> None:
        """Produce one record inside the open transaction.

        Raises:
            FencedError: the producer was fenced (or hit another fatal error) meanwhile.
        """
        try:
            _produce(self._producer, topic, key=key, value=value, headers=headers, callback=None)
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.fatal() or error.code() in _FENCED:
                raise FencedError(f"producer fenced or fatal: {error}") from None
            raise

    def complete(self, offsets: Offsets) -> None:
        """Add the offsets to the transaction and commit it, both within one timeout.

        Raises:
            BatchAbortedError: the broker made us abort; the consumer was rewound.
            FencedError: a newer producer owns the transactional.id.
        """
        positions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        deadline = time.monotonic() + self._timeout_s
        try:
            if positions:
                metadata = self._consumer.consumer_group_metadata()
                self._call(
                    lambda timeout: self._producer.send_offsets_to_transaction(
                        positions, metadata, timeout
                    ),
                    deadline=deadline,
                )
            self._call(self._producer.commit_transaction, deadline=deadline)
        except BatchAbortedError:
            self.abandon()
            raise
        self._open = False

    def abandon(self) -> None:
        """Abort the open transaction and rewind the consumer to its committed offsets.

        Raises:
            FencedError: a newer producer owns the transactional.id.
        """
        if self._open:
            self._call(self._producer.abort_transaction)
            self._open = False
        rewind(self._consumer)

    def drain(self, *, timeout_s: float) -> None:
        """Nothing is pending between batches; flush whatever librdkafka still holds."""
        self._producer.flush(timeout_s)

    def forget(self, partitions: set[tuple[str, int]]) -> None:
        """Nothing to forget: offsets live only inside the transaction."""

    def _call(self, operation: Callable[[float], object], *, deadline: float | None = None) -> None:
        """Run a transaction call, retrying retriable errors, all before ``deadline``.

        Each attempt gets only the time left; librdkafka may still overrun it (a transaction
        call waiting for an absent broker), which the loop's watchdog bounds.
        """
        deadline = deadline or time.monotonic() + self._timeout_s
        attempt = 0
        while True:
            attempt += 1
            try:
                operation(max(0.1, deadline - time.monotonic()))
                return
            except KafkaException as exc:
                error: KafkaError = exc.args[0]
                if error.code() in _FENCED or error.fatal():
                    raise FencedError(f"producer fenced or fatal: {error}") from None
                if error.txn_requires_abort():
                    raise BatchAbortedError(str(error)) from exc
                if not error.retriable() or time.monotonic() > deadline:
                    raise FatalError(f"transaction call failed: {error}") from exc
                if attempt == 1 or attempt % 20 == 0:
                    logger.warning(
                        "transaction call failed (attempt %d), retrying: %s", attempt, error
                    )
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


Delivery = AtLeastOnceDelivery | ExactlyOnceDelivery


def rewind(consumer: Consumer) -> None:
    """Seek every assigned partition back to its committed offset (or the beginning)."""
    assignment = consumer.assignment()
    if not assignment:
        return
    for tp in consumer.committed(assignment, timeout=30):
        offset = tp.offset if tp.offset >= 0 else OFFSET_BEGINNING
        try:
            consumer.seek(TopicPartition(tp.topic, tp.partition, offset))
        except KafkaException as exc:
            logger.warning("cannot rewind %s/%s: %s", tp.topic, tp.partition, exc)


def _produce(
    producer: Producer,
    topic: str,
    *,
    key: bytes | None,
    value: bytes | None,
    headers: Headers,
    callback: Callable[[KafkaError | None, Message], None] | None,
) -> None:
    while True:
        try:
            producer.produce(
                topic,
                value,
                key,
                headers=list(headers) or None,
                on_delivery=callback,
            )
            return
        except BufferError:
            producer.poll(0.05)  # local queue full: serve delivery reports, then try again


def _store(consumer: Consumer, offsets: Mapping[tuple[str, int], int]) -> None:
    if not offsets:
        return
    try:
        consumer.store_offsets(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()])
    except KafkaException as exc:
        # A partition revoked meanwhile cannot be stored; its new owner reads it again.
        logger.info("offsets not stored (partition no longer assigned): %s", exc)
