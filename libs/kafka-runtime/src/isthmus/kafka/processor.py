"""The consume → decode → handle → produce → commit loop on the plain confluent-kafka clients."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from opentelemetry.trace import Tracer

from isthmus.kafka.clients import consumer_config, producer_config
from isthmus.kafka.delivery import (
    AtLeastOnceDelivery,
    BatchAbortedError,
    Delivery,
    ExactlyOnceDelivery,
    Offsets,
)
from isthmus.kafka.errors import FatalError, FencedError
from isthmus.kafka.liveness import LoopHealth, Watchdog
from isthmus.kafka.parked_store import load_parked
from isthmus.kafka.parking import ParkedCodec, ParkedKeys
from isthmus.kafka.records import DeserializerLike, Handler, SerializerLike
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.kafka.steps import RecordSteps
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)

_LAG_EVERY_S = 5.0


class Processor:
    """Runs one pure handler over input topics, with retry topics, a DLQ and per-key order.

    Commit order, the whole delivery guarantee in one place:

    1. Poll a batch. Per record, in partition order: decode → handler → encode → produce its
       outputs, or instead its retry, DLQ or parked copy (and the ``<group>.parked`` update).
       Nothing is committed during this step.
    2. At-least-once: the batch's next offsets are *stored* only once the broker acknowledged
       every record this batch and every earlier batch produced; librdkafka commits stored
       offsets every second, on revoke and on close. A crash re-reads what was not stored.
       Exactly-once: the produced records and the batch's offsets
       (``send_offsets_to_transaction`` with the group metadata) form one transaction;
       ``commit_transaction`` makes them visible to read_committed consumers at once. An abort
       rewinds every partition to its committed offset and rolls the parked keys back.
    3. A retry record that is not due yet ends its partition's part of the batch: the
       partition is rewound to it and paused until it is due, and its offset does not advance.
       librdkafka keeps a partition paused across a rebalance that takes it away and gives it
       back, while the loop forgets what it paused on revoke; so every newly assigned
       partition is resumed before the next poll (one still not due is paused again when its
       record is read).

    ``health`` tells the probes whether the loop polls as a group member; a ``Watchdog`` ends
    the process when one batch (or one rebalance callback, or the close) outlasts
    ``stall_timeout_s``, or when a stop signal is not honoured within the shutdown timeout.
    """

    def __init__(
        self,
        *,
        kafka: KafkaSettings,
        settings: ProcessorSettings,
        topics: Sequence[str],
        handler: Handler[object, object],
        routes: Routes,
        key_deserializer: DeserializerLike | None = None,
        value_deserializer: DeserializerLike | None = None,
        key_serializer: SerializerLike | None = None,
        value_serializer: SerializerLike | None = None,
        parked_codec: ParkedCodec | None = None,
        metrics: RuntimeMetrics | None = None,
        spans: Tracer | None = None,
    ) -> None:
        """Build the loop; ``parked_codec`` encodes ``<group>.parked`` (its catalogue schema)."""
        self._kafka = kafka
        self._settings = settings
        self._topics = list(topics)
        self._routes = routes
        self._metrics = metrics or RuntimeMetrics.create()
        self._parked = ParkedKeys(group=routes.group, topic=routes.parked, codec=parked_codec)
        self._steps = RecordSteps(
            settings=settings,
            routes=routes,
            handler=handler,
            parked=self._parked,
            metrics=self._metrics,
            key_deserializer=key_deserializer,
            value_deserializer=value_deserializer,
            key_serializer=key_serializer,
            value_serializer=value_serializer,
            spans=spans,
        )
        self._paused: dict[tuple[str, int], int] = {}
        self._assigned: set[tuple[str, int]] = set()  # to resume before the next poll
        self._stopping = False
        self._closing = False
        self._last_lag = 0.0
        self.health = LoopHealth(stall_s=settings.stall_timeout_s)

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit, close and return (signal-safe)."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (call from the main thread)."""

        def _handler(signum: int, _frame: FrameType | None) -> None:
            logger.info("signal %s received, stopping after the current batch", signum)
            self.stop()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    def run(self) -> int:
        """Process until stopped; return the process exit code (0 clean, 1 fatal or fenced)."""
        consumer = Consumer(consumer_config(kafka=self._kafka, processor=self._settings))
        producer = Producer(producer_config(kafka=self._kafka, processor=self._settings))
        delivery = self._delivery(consumer, producer)
        watchdog = Watchdog(
            health=self.health,
            shutdown_s=2 * self._settings.shutdown_timeout_s + 5,
            on_signal=self.stop,
        )
        watchdog.start()
        code = 0
        try:
            with self.health.busy("start"):
                if isinstance(delivery, ExactlyOnceDelivery):
                    delivery.init()
                self._reload_parked()
            consumer.subscribe(
                [*self._topics, *self._routes.retry_topics],
                on_assign=lambda c, parts: self._on_assign(delivery, c, parts),
                on_revoke=lambda c, parts: self._on_revoke(delivery, c, parts),
                on_lost=lambda c, parts: self._on_lost(delivery, parts),
            )
            self.health.started = True
            while not self._stopping:
                self._batch(consumer, delivery)
        except (FatalError, FencedError, KafkaException) as exc:
            logger.error("processor stopping on a fatal error: %s", exc)
            code = 1
        finally:
            with self.health.busy("close"):
                self._close(consumer, producer, delivery, clean=code == 0)
            watchdog.stop()
        return code

    def _delivery(self, consumer: Consumer, producer: Producer) -> Delivery:
        if self._settings.exactly_once:
            return ExactlyOnceDelivery(
                consumer=consumer,
                producer=producer,
                timeout_s=self._settings.transaction_timeout_ms / 1000,
            )
        return AtLeastOnceDelivery(
            consumer=consumer,
            producer=producer,
            max_in_flight=self._settings.max_in_flight_batches,
        )

    def _batch(self, consumer: Consumer, delivery: Delivery) -> None:
        self._resume_due(consumer)
        messages = consumer.consume(self._settings.batch_size, timeout=self._poll_timeout())
        self.health.polled()
        self._record_lag(consumer)
        if not messages:
            return
        try:
            with self.health.busy("batch"):
                delivery.begin()
                offsets = self._process(consumer, delivery, messages)
                with self.health.busy("commit"):
                    delivery.complete(offsets)
        except BatchAbortedError as exc:
            logger.warning("transaction aborted, rewound to committed offsets: %s", exc)
            self._reload_parked()
        except FatalError:
            self._abandon(delivery)
            raise

    def _process(self, consumer: Consumer, delivery: Delivery, batch: list[Message]) -> Offsets:
        offsets: Offsets = {}
        blocked: set[tuple[str, int]] = set()
        now = datetime.now(tz=UTC)
        for message in batch:
            error = message.error()
            if error is not None:
                _consumer_error(error)
                continue
            tp = (message.topic() or "", message.partition() or 0)
            if tp in blocked:
                continue
            due = self._steps.due_ms(message)
            if due is not None and due > now.timestamp() * 1000:
                self._defer(consumer, message, due)
                blocked.add(tp)
                continue
            self._steps.process(message, delivery=delivery, now=now)
            offsets[tp] = (message.offset() or 0) + 1
        self._steps.count_batch(len(batch))
        return offsets

    def _defer(self, consumer: Consumer, message: Message, due_ms: int) -> None:
        tp = TopicPartition(message.topic() or "", message.partition() or 0, message.offset() or 0)
        consumer.pause([tp])
        consumer.seek(tp)
        self._paused[(tp.topic, tp.partition)] = due_ms

    def _resume_due(self, consumer: Consumer) -> None:
        now_ms = time.time() * 1000
        due = [tp for tp, at in self._paused.items() if at <= now_ms]
        fresh = [tp for tp in self._assigned if tp not in self._paused]
        self._assigned.clear()
        if due or fresh:
            consumer.resume([TopicPartition(t, p) for t, p in [*due, *fresh]])
            for tp in due:
                del self._paused[tp]

    def _poll_timeout(self) -> float:
        timeout = self._settings.poll_timeout_s
        if self._paused:
            until = (min(self._paused.values()) - time.time() * 1000) / 1000
            timeout = max(0.01, min(timeout, until))
        return timeout

    def _reload_parked(self) -> None:
        if self._routes.tiers:
            load_parked(kafka=self._kafka, topic=self._routes.parked, keys=self._parked)

    def _on_assign(
        self, delivery: Delivery, _consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("assigned %s", _names(partitions))
        self.health.assigned()
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        if self._routes.tiers:
            # Another member may have parked keys of these partitions; our own parked updates
            # still in flight must land first, or the reload would read an older state.
            with self.health.busy("rebalance"):
                delivery.drain(timeout_s=self._settings.shutdown_timeout_s)
                self._reload_parked()

    def _on_revoke(
        self, delivery: Delivery, consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("revoked %s", _names(partitions))
        try:
            with self.health.busy("rebalance"):
                delivery.drain(timeout_s=self._settings.shutdown_timeout_s)
                if not self._settings.exactly_once:
                    _commit_stored(consumer)
        except (FatalError, FencedError, KafkaException) as exc:
            if not self._closing:
                raise
            logger.warning("revoked while closing after a failure: %s", exc)
        self._forget(delivery, partitions)

    def _on_lost(self, delivery: Delivery, partitions: list[TopicPartition]) -> None:
        logger.warning(
            "group membership lost (session timeout or poll interval exceeded); "
            "rejoining without %s",
            _names(partitions),
        )
        self.health.lost()
        self._forget(delivery, partitions)

    def _forget(self, delivery: Delivery, partitions: list[TopicPartition]) -> None:
        gone = {(tp.topic, tp.partition) for tp in partitions}
        for tp in gone:
            self._paused.pop(tp, None)
        self._assigned -= gone
        delivery.forget(gone)

    def _abandon(self, delivery: Delivery) -> None:
        try:
            delivery.abandon()
        except (FencedError, FatalError, KafkaException) as exc:
            logger.warning("could not abort the batch cleanly: %s", exc)

    def _close(
        self, consumer: Consumer, producer: Producer, delivery: Delivery, *, clean: bool
    ) -> None:
        timeout = self._settings.shutdown_timeout_s
        self._closing = True
        try:
            if clean or not self._settings.exactly_once:
                delivery.drain(timeout_s=timeout)
            if not self._settings.exactly_once:
                _commit_stored(consumer)
        except (FatalError, FencedError, KafkaException) as exc:
            logger.error("offsets not committed on close: %s", exc)
        for step in (consumer.close, lambda: producer.flush(timeout)):
            try:
                step()
            except (FatalError, FencedError, KafkaException) as exc:
                logger.warning("closing the clients: %s", exc)
        logger.info("processor closed", extra={"group": self._settings.group_id})

    def _record_lag(self, consumer: Consumer) -> None:
        now = time.monotonic()
        if now - self._last_lag < _LAG_EVERY_S:
            return
        self._last_lag = now
        assignment = consumer.assignment()
        if not assignment:
            return
        for tp in consumer.position(assignment):
            _low, high = consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset >= 0 and high >= 0:
                attributes: dict[str, str | int] = {"topic": tp.topic, "partition": tp.partition}
                self._metrics.lag.set(max(0, high - tp.offset), attributes)


def _consumer_error(error: KafkaError) -> None:
    if error.fatal():
        raise FatalError(f"consumer fatal error: {error}")
    logger.warning("consumer error: %s", error)


def _commit_stored(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:
            logger.warning("commit failed: %s", exc)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in partitions)
