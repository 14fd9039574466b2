"""The sink loop: poll, run the poll's commands in waves, store offsets, pause when told to.

Commit order, the whole delivery guarantee in one place (at-least-once from Kafka, idempotent
towards the target):

1. Poll up to ``batch_size`` records from the command topics and the group's retry topics. A
   retry record that is not due ends its partition's part of the poll (seek back, pause until
   due), exactly as the runtime's ``Processor`` does, including resuming every newly assigned
   partition before the next poll (librdkafka keeps a partition paused across a rebalance
   that takes it away and gives it back).
2. Run the poll's commands in waves of distinct keys against the target. Every outcome is
   produced through the runtime's ``AtLeastOnceDelivery``: result, state, xref and audit records,
   or the retry/DLQ/parked copies. Nothing is committed during this step.
3. Once the broker acknowledged every record of this poll (and of every earlier one), the
   poll's next offsets are stored, and librdkafka commits stored offsets. A crash re-reads what
   was not stored; the target sees the command again and recognises it (upsert by alternate key,
   find-before-create), so nothing is created twice, and a change a newer version of its record
   already overwrote is skipped (``isthmus.sink.versions``). A member that loses its partitions
   mid-batch (poll interval overrun, session timeout) still finishes the batch; when the
   partitions come back it commits what it finished before reading on.
4. A command held because the breaker is open or the credential is refused is not passed: its
   partition is sought back to it and all partitions pause until a probe succeeds.

The loop reports polls, batches and group membership to its ``LoopHealth`` (the probes), and the
runtime's ``Watchdog`` ends the process when a poll's work or a rebalance outlasts
``stall_timeout_s`` or a stop signal is not honoured.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from isthmus.kafka import headers as h
from isthmus.kafka.clients import consumer_config, producer_config
from isthmus.kafka.delivery import AtLeastOnceDelivery
from isthmus.kafka.errors import FatalError
from isthmus.kafka.liveness import LoopHealth, Watchdog
from isthmus.kafka.parked_store import load_parked
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.sink.batch import PollBatch
from isthmus.sink.context import SinkContext
from isthmus.sink.errors import CommandFailedError
from isthmus.sink.reroute import Pending, TopicPartitionKey

logger = logging.getLogger(__name__)


class SinkLoop:
    """Consumes a sink's command and retry topics as one consumer group and runs the commands."""

    def __init__(
        self,
        *,
        kafka: KafkaSettings,
        processor: ProcessorSettings,
        ctx: SinkContext,
        topics: Sequence[str],
        health: LoopHealth,
    ) -> None:
        self._kafka = kafka
        self._processor = processor
        self._ctx = ctx
        self._topics = list(topics)
        self._health = health
        self._deferred: dict[TopicPartitionKey, int] = {}
        self._assigned: set[TopicPartitionKey] = set()  # to resume before the next poll
        self._gate: str | None = None
        self._probe_at = 0.0
        self._auth_pause_s = ctx.settings.auth_pause_s
        self._stopping = False

    def stop(self) -> None:
        """Finish the poll in hand, store offsets, close (signal-safe)."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (call from the main thread)."""

        def _handler(signum: int, _frame: FrameType | None) -> None:
            logger.info("signal %s received, stopping after the current poll", signum)
            self.stop()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    def run(self) -> int:
        """Consume until stopped; return the exit code (0 clean, 1 fatal)."""
        consumer = Consumer(consumer_config(kafka=self._kafka, processor=self._processor))
        producer = Producer(producer_config(kafka=self._kafka, processor=self._processor))
        delivery = AtLeastOnceDelivery(
            consumer=consumer,
            producer=producer,
            max_in_flight=self._processor.max_in_flight_batches,
        )
        watchdog = Watchdog(
            health=self._health,
            shutdown_s=2 * self._processor.shutdown_timeout_s + 5,
            on_signal=self.stop,
        )
        watchdog.start()
        code = 0
        try:
            with self._health.busy("start"):
                self._reload_parked()
            consumer.subscribe(
                [*self._topics, *self._ctx.routes.retry_topics],
                on_assign=lambda c, parts: self._on_assign(delivery, c, parts),
                on_revoke=lambda c, parts: self._on_revoke(delivery, c, parts),
                on_lost=lambda _c, parts: self._on_lost(delivery, parts),
            )
            self._health.started = True
            while not self._stopping:
                self._iteration(consumer, delivery)
        except (FatalError, KafkaException) as exc:
            logger.error("sink stopping on a fatal error: %s", exc, exc_info=exc)
            code = 1
        finally:
            with self._health.busy("close"):
                self._close(consumer, producer, delivery)
            watchdog.stop()
        return code

    def _iteration(self, consumer: Consumer, delivery: AtLeastOnceDelivery) -> None:
        if self._gate is not None:
            with self._health.busy("probe"):
                self._probe(consumer)
            if self._gate is not None:
                consumer.pause(consumer.assignment())
        self._resume_due(consumer)
        messages = consumer.consume(self._processor.batch_size, timeout=self._poll_timeout())
        self._health.polled()
        if not messages:
            return
        with self._health.busy("batch"):
            delivery.begin()
            batch = PollBatch(ctx=self._ctx, delivery=delivery, now=datetime.now(tz=UTC))
            batch.run(self._admit(consumer, batch, messages))
            offsets = batch.finish()
            with self._health.busy("commit"):
                delivery.complete(offsets)
            self._after(consumer, batch)

    def _admit(
        self, consumer: Consumer, batch: PollBatch, messages: list[Message]
    ) -> list[Pending]:
        admitted: list[Pending] = []
        blocked: set[TopicPartitionKey] = set()
        now_ms = time.time() * 1000
        for message in messages:
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise FatalError(f"consumer fatal error: {error}")
                if error.code() != KafkaError._PARTITION_EOF:
                    logger.warning("consumer error: %s", error)
                continue
            tp = (message.topic() or "", message.partition() or 0)
            if tp in blocked:
                continue
            due = self._due_ms(message)
            if due is not None and due > now_ms:
                self._defer(consumer, message, due)
                blocked.add(tp)
                continue
            pending = batch.admit(message)
            if pending is not None:
                admitted.append(pending)
        return admitted

    def _after(self, consumer: Consumer, batch: PollBatch) -> None:
        for (topic, partition), offset in batch.held.items():
            consumer.seek(TopicPartition(topic, partition, offset))
        if batch.auth_failed is not None:
            self._close_gate(consumer, "auth", batch.auth_failed)
        elif self._ctx.breaker.is_open and self._gate is None:
            self._close_gate(consumer, "breaker", None)

    def _close_gate(
        self, consumer: Consumer, reason: str, failure: CommandFailedError | None
    ) -> None:
        consumer.pause(consumer.assignment())
        self._gate = reason
        self._health.paused_reason = reason
        if reason == "auth":
            self._probe_at = time.monotonic() + self._auth_pause_s
            self._ctx.metrics.auth_failing.set(1)
            logger.error(
                "credential refused, consumption paused for %.0fs: %s", self._auth_pause_s, failure
            )
        else:
            self._ctx.metrics.breaker_open.set(1)
            logger.error("target unavailable, circuit open: consumption paused")

    def _probe(self, consumer: Consumer) -> None:
        now = time.monotonic()
        breaker = self._ctx.breaker
        due = breaker.probe_due(now=now) if self._gate == "breaker" else now >= self._probe_at
        if not due:
            return
        if self._gate == "breaker":
            breaker.start_probe()
        try:
            self._ctx.run(self._ctx.executor.probe())
        except CommandFailedError as exc:
            logger.warning("probe of the target failed (%s): %s", self._gate, exc)
            if self._gate == "breaker":
                breaker.probe_failed(now=time.monotonic())
            else:
                self._auth_pause_s = min(
                    self._auth_pause_s * 2, self._ctx.settings.auth_pause_s * 10
                )
                self._probe_at = time.monotonic() + self._auth_pause_s
            return
        logger.info("target answers again, resuming (%s)", self._gate)
        breaker.record_success()
        self._gate = None
        self._health.paused_reason = None
        self._auth_pause_s = self._ctx.settings.auth_pause_s
        self._ctx.metrics.auth_failing.set(0)
        self._ctx.metrics.breaker_open.set(0)
        resume = [
            tp for tp in consumer.assignment() if (tp.topic, tp.partition) not in self._deferred
        ]
        consumer.resume(resume)

    def _due_ms(self, message: Message) -> int | None:
        if self._ctx.routes.tier_index(message.topic() or "") is None:
            return None
        return h.read_int(h.of(message), h.RETRY_DUE)

    def _defer(self, consumer: Consumer, message: Message, due_ms: int) -> None:
        tp = TopicPartition(message.topic() or "", message.partition() or 0, message.offset() or 0)
        consumer.pause([tp])
        consumer.seek(tp)
        self._deferred[(tp.topic, tp.partition)] = due_ms

    def _resume_due(self, consumer: Consumer) -> None:
        now_ms = time.time() * 1000
        due = [tp for tp, at in self._deferred.items() if at <= now_ms]
        for tp in due:
            del self._deferred[tp]
        # While the gate is closed every partition stays paused; opening it resumes them all.
        fresh = [tp for tp in self._assigned if tp not in self._deferred]
        self._assigned.clear()
        if (due or fresh) and self._gate is None:
            consumer.resume([TopicPartition(t, p) for t, p in [*due, *fresh]])

    def _poll_timeout(self) -> float:
        timeout = self._processor.poll_timeout_s
        if self._deferred:
            until = (min(self._deferred.values()) - time.time() * 1000) / 1000
            timeout = max(0.01, min(timeout, until))
        return timeout

    def _reload_parked(self) -> None:
        if self._ctx.routes.tiers:
            load_parked(kafka=self._kafka, topic=self._ctx.routes.parked, keys=self._ctx.parked)

    def _on_assign(
        self, delivery: AtLeastOnceDelivery, consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("assigned %s", ", ".join(f"{p.topic}/{p.partition}" for p in partitions))
        self._health.assigned()
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        with self._health.busy("rebalance"):
            _commit_finished(consumer, delivery, partitions)
            self._reload_parked()

    def _on_revoke(
        self, delivery: AtLeastOnceDelivery, consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("revoked %s", ", ".join(f"{p.topic}/{p.partition}" for p in partitions))
        with self._health.busy("rebalance"):
            delivery.drain(timeout_s=self._processor.shutdown_timeout_s)
            _commit(consumer)
        self._forget(delivery, partitions)

    def _on_lost(self, delivery: AtLeastOnceDelivery, partitions: list[TopicPartition]) -> None:
        logger.warning(
            "group membership lost (session timeout or poll interval exceeded); rejoining "
            "without %s",
            ", ".join(f"{p.topic}/{p.partition}" for p in partitions),
        )
        self._health.lost()
        # The batch in hand still finishes and its outputs are delivered: keep its offsets, to
        # commit them if the partitions come back (see _commit_finished), not to run it again.
        self._forget(delivery, partitions, handed_over=False)

    def _forget(
        self,
        delivery: AtLeastOnceDelivery,
        partitions: list[TopicPartition],
        *,
        handed_over: bool = True,
    ) -> None:
        gone = {(tp.topic, tp.partition) for tp in partitions}
        for tp in gone:
            self._deferred.pop(tp, None)
        self._assigned -= gone
        if handed_over:
            delivery.forget(gone)

    def _close(self, consumer: Consumer, producer: Producer, delivery: AtLeastOnceDelivery) -> None:
        timeout = self._processor.shutdown_timeout_s
        try:
            delivery.drain(timeout_s=timeout)
            _commit(consumer)
        except FatalError as exc:
            logger.error("offsets not committed on close: %s", exc)
        finally:
            consumer.close()
            producer.flush(timeout)
            self._ctx.run(self._ctx.executor.aclose())
        logger.info("sink closed")


def _commit_finished(
    consumer: Consumer, delivery: AtLeastOnceDelivery, partitions: list[TopicPartition]
) -> None:
    """Commit, for partitions given back, the offsets of work this member finished while it
    was out of the group (a poll-interval overrun or a session timeout mid-batch): otherwise
    the group would read those commands again and write their older values over newer ones.
    A partition someone else committed further since is left as it is."""
    finished = {
        (tp.topic, tp.partition): delivery.completed[(tp.topic, tp.partition)]
        for tp in partitions
        if (tp.topic, tp.partition) in delivery.completed
    }
    if not finished:
        return
    try:
        committed = consumer.committed([TopicPartition(t, p) for t, p in finished], timeout=10)
    except KafkaException as exc:
        logger.warning("committed offsets not read on assignment: %s", exc)
        return
    ahead = [
        TopicPartition(tp.topic, tp.partition, finished[(tp.topic, tp.partition)])
        for tp in committed
        if finished[(tp.topic, tp.partition)] > tp.offset
    ]
    if not ahead:
        return
    try:
        consumer.commit(offsets=ahead, asynchronous=False)
    except KafkaException as exc:
        logger.warning("finished offsets not committed on assignment: %s", exc)
        return
    logger.info(
        "committed work finished while out of the group: %s",
        ", ".join(f"{tp.topic}/{tp.partition}@{tp.offset}" for tp in ahead),
    )


def _commit(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:
            logger.warning("commit failed: %s", exc)
