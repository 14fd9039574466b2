"""The one consume → handle → produce → commit loop of every Kafka service.

What a service does with a poll is its ``Work``: the transformer's is a pure handler per record
(``isthmus.kafka.steps.RecordWork``), a sink's runs commands against a target in waves
(``isthmus.sink.work.SinkWork``). The loop owns everything else: the clients, the delivery
strategy, retry-topic deferral, the parked keys, group membership, probes and the watchdog.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from types import FrameType

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from opentelemetry.trace import Tracer

from isthmus.kafka import headers as h
from isthmus.kafka.clients import consumer_config, producer_config
from isthmus.kafka.delivery import (
    AtLeastOnceDelivery,
    BatchAbortedError,
    Delivery,
    ExactlyOnceDelivery,
)
from isthmus.kafka.errors import FatalError, FencedError
from isthmus.kafka.liveness import LoopHealth, Watchdog
from isthmus.kafka.parked_store import load_parked
from isthmus.kafka.parking import ParkedCodec, ParkedKeys
from isthmus.kafka.polling import take
from isthmus.kafka.records import Codecs, DeserializerLike, Handler, SerializerLike
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.kafka.steps import RecordSteps, RecordWork
from isthmus.kafka.waits import Waits, woken
from isthmus.kafka.work import TopicPartitionKey, Work
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)

_LAG_EVERY_S = 5.0


class ConsumeLoop:
    """Consumes input and retry topics as one group member and runs ``work`` over each poll.

    Commit order, the whole delivery guarantee of both strategies in one place:

    1. Poll up to ``batch_size`` records from the input topics and the group's retry topics:
       whatever has arrived, waiting only while nothing has (``take``). A batch never waits to
       fill, so a record at a low rate is handled within a millisecond of reaching the member
       and a batch grows by itself with the rate (the records that came in during the last).
       A retry record that is not due yet ends its partition's part of the poll: the partition
       is sought back to it and paused until it is due, and its offset does not advance.
       librdkafka keeps a partition paused across a rebalance that takes it away and gives it
       back while the loop forgets what it paused on revoke, so every newly assigned partition
       is resumed before the next poll (one still not due is paused again when it is read).
       A record waiting for a prerequisite, or parked behind its key's head, is due early once
       what it waits for is there (``isthmus.kafka.waits``).
    2. ``work.handle`` takes the due records; every outcome (outputs, or the retry, DLQ and
       parked copies and the ``<group>.parked`` update, see ``isthmus.kafka.rerouting``) is
       produced through the delivery. Nothing is committed during this step.
    3. ``delivery.complete(offsets)`` (``isthmus.kafka.delivery``) is where offsets are committed:

       - **at-least-once** (sinks and other side-effecting consumers,
         ``AtLeastOnceDelivery``): the poll's next offsets are *stored* only once the broker
         acknowledged every record this poll and every earlier poll produced; librdkafka
         commits stored offsets every second, and the loop commits them synchronously on revoke
         and on close. A crash re-reads what was not stored, so a side effect is repeated at
         most once per crash and the work must recognise it (the sinks' idempotent writes).
         A member that loses its partitions mid-poll (poll interval overrun, session timeout)
         still finishes the poll; when the partitions come back it commits what it finished
         before reading on, so finished commands are not run again over newer ones.
       - **exactly-once** (stream processors, ``ExactlyOnceDelivery``): the produced records
         and the poll's offsets (``send_offsets_to_transaction`` with the group metadata) form
         one transaction; ``commit_transaction`` makes them visible to read_committed consumers
         at once. An abort rewinds every partition to its committed offset and reloads the
         parked keys.

    4. When the work answers ``Handled.hold``, every partition pauses and the loop asks
       ``work.probe`` before each poll until it may resume.

    ``health`` tells the probes whether the loop polls as a group member; a ``Watchdog`` ends
    the process when one poll's work (or one rebalance callback, or the close) outlasts
    ``stall_timeout_s``, or when a stop signal is not honoured within the shutdown timeout.
    """

    def __init__(
        self,
        *,
        kafka: KafkaSettings,
        settings: ProcessorSettings,
        topics: Sequence[str],
        routes: Routes,
        parked: ParkedKeys,
        work: Work,
        metrics: RuntimeMetrics | None = None,
        health: LoopHealth | None = None,
        name: str = "loop",
        waits: Waits | None = None,
    ) -> None:
        """Build the loop; ``name`` labels its log lines (the service's role); ``waits`` is the
        followed table whose keys release the records waiting for them."""
        self._kafka = kafka
        self._settings = settings
        self._topics = list(topics)
        self._routes = routes
        self._parked = parked
        self._work = work
        self._metrics = metrics or RuntimeMetrics.create()
        self._name = name
        self._deferred: dict[TopicPartitionKey, int] = {}
        self._heads: dict[TopicPartitionKey, Message] = {}  # the record each deferral waits at
        self._waits = waits
        self._assigned: set[TopicPartitionKey] = set()  # to resume before the next poll
        self._hold: str | None = None
        self._stopping = False
        self._closing = False
        self._last_lag = 0.0
        self.health = health or LoopHealth(stall_s=settings.stall_timeout_s)

    @classmethod
    def for_handler(
        cls,
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
        waits: Waits | None = None,
    ) -> ConsumeLoop:
        """A stream processor: one pure ``handler`` per record (``parked_codec`` encodes
        ``<group>.parked`` with its catalogue schema)."""
        runtime_metrics = metrics or RuntimeMetrics.create()
        parked = ParkedKeys(group=routes.group, topic=routes.parked, codec=parked_codec)
        codecs = Codecs(key_deserializer, value_deserializer, key_serializer, value_serializer)
        steps = RecordSteps(
            settings=settings,
            routes=routes,
            handler=handler,
            parked=parked,
            metrics=runtime_metrics,
            codecs=codecs,
            spans=spans,
        )
        return cls(
            kafka=kafka,
            settings=settings,
            topics=topics,
            routes=routes,
            parked=parked,
            work=RecordWork(steps),
            metrics=runtime_metrics,
            name="processor",
            waits=waits,
        )

    def stop(self) -> None:
        """Ask the loop to finish the poll in hand, commit, close and return (signal-safe)."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        """Stop gracefully on SIGTERM and SIGINT (call from the main thread)."""

        def _handler(signum: int, _frame: FrameType | None) -> None:
            logger.info("signal %s received, stopping after the current batch", signum)
            self.stop()

        signal.signal(signal.SIGTERM, _handler)
        signal.signal(signal.SIGINT, _handler)

    def run(self) -> int:
        """Consume until stopped; return the process exit code (0 clean, 1 fatal or fenced)."""
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
                on_lost=lambda _c, parts: self._on_lost(delivery, parts),
            )
            self.health.started = True
            while not self._stopping:
                self._iteration(consumer, delivery)
        except (FatalError, FencedError, KafkaException) as exc:
            logger.error("%s stopping on a fatal error: %s", self._name, exc, exc_info=exc)
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

    def _iteration(self, consumer: Consumer, delivery: Delivery) -> None:
        if self._hold is not None:
            with self.health.busy("probe"):
                self._probe(consumer)
        self._resume_due(consumer)
        messages = take(consumer, self._settings.batch_size, timeout=self._poll_timeout())
        self.health.polled()
        self._record_lag(consumer)
        if not messages:
            return
        self._metrics.consumed.add(len(messages))
        try:
            with self.health.busy("batch"):
                delivery.begin()
                handled = self._work.handle(
                    self._due(consumer, messages), delivery=delivery, now=datetime.now(tz=UTC)
                )
                with self.health.busy("commit"):
                    delivery.complete(handled.offsets)
        except BatchAbortedError as exc:
            logger.warning("transaction aborted, rewound to committed offsets: %s", exc)
            self._reload_parked()
            return
        except FatalError:
            self._abandon(delivery)
            raise
        for (topic, partition), offset in handled.rewind.items():
            consumer.seek(TopicPartition(topic, partition, offset))
        if handled.hold is not None and self._hold is None:
            self._hold = self.health.paused_reason = handled.hold
        if self._hold is not None:
            consumer.pause(consumer.assignment())

    def _due(self, consumer: Consumer, messages: list[Message]) -> list[Message]:
        """The poll's records to handle: errors skipped, a partition cut at a retry not due."""
        due: list[Message] = []
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
            at = self._due_ms(message)
            if at is not None and at > now_ms and not self._woken(message):
                self._defer(consumer, message, at)
                blocked.add(tp)
                continue
            due.append(message)
        return due

    def _due_ms(self, message: Message) -> int | None:
        """When a record read from a retry topic is due (epoch ms); None for other topics."""
        if self._routes.tier_index(message.topic() or "") is None:
            return None
        return h.read_int(h.of(message), h.RETRY_DUE)

    def _defer(self, consumer: Consumer, message: Message, due_ms: int) -> None:
        tp = TopicPartition(message.topic() or "", message.partition() or 0, message.offset() or 0)
        consumer.pause([tp])
        consumer.seek(tp)
        self._deferred[(tp.topic, tp.partition)] = due_ms
        self._heads[(tp.topic, tp.partition)] = message

    def _woken(self, message: Message) -> bool:
        return woken(message, waits=self._waits, parked=self._parked)

    def _resume_due(self, consumer: Consumer) -> None:
        now_ms = time.time() * 1000
        due = [
            tp
            for tp, at in self._deferred.items()
            if at <= now_ms or (tp in self._heads and self._woken(self._heads[tp]))
        ]
        for tp in due:
            del self._deferred[tp]
            self._heads.pop(tp, None)
        fresh = [tp for tp in self._assigned if tp not in self._deferred]
        self._assigned.clear()
        # While consumption is held every partition stays paused; resuming it resumes them all.
        if (due or fresh) and self._hold is None:
            consumer.resume([TopicPartition(t, p) for t, p in [*due, *fresh]])

    def _probe(self, consumer: Consumer) -> None:
        if not self._work.probe():
            consumer.pause(consumer.assignment())
            return
        logger.info("resuming consumption (%s)", self._hold)
        self._hold = self.health.paused_reason = None
        consumer.resume(
            [tp for tp in consumer.assignment() if (tp.topic, tp.partition) not in self._deferred]
        )

    def _poll_timeout(self) -> float:
        timeout = self._settings.poll_timeout_s
        if self._deferred:
            # a woken head is resumed at the next iteration: waits stay within one poll timeout
            until = (min(self._deferred.values()) - time.time() * 1000) / 1000
            timeout = max(0.01, min(timeout, until))
        return timeout

    def _reload_parked(self) -> None:
        if self._routes.tiers:
            load_parked(kafka=self._kafka, topic=self._routes.parked, keys=self._parked)

    def _on_assign(
        self, delivery: Delivery, consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("assigned %s", _names(partitions))
        self.health.assigned()
        self._assigned.update((tp.topic, tp.partition) for tp in partitions)
        at_least_once = isinstance(delivery, AtLeastOnceDelivery)
        with self.health.busy("rebalance"):
            if self._routes.tiers or at_least_once:
                # Our outputs still in flight land first: finished work is then known, and our
                # parked updates are in the topic before it is read again (another member may
                # have parked keys of these partitions meanwhile).
                delivery.drain(timeout_s=self._settings.shutdown_timeout_s)
            if isinstance(delivery, AtLeastOnceDelivery):
                _commit_finished(consumer, delivery, partitions)
            self._reload_parked()

    def _on_revoke(
        self, delivery: Delivery, consumer: Consumer, partitions: list[TopicPartition]
    ) -> None:
        logger.info("revoked %s", _names(partitions))
        try:
            with self.health.busy("rebalance"):
                delivery.drain(timeout_s=self._settings.shutdown_timeout_s)
                if isinstance(delivery, AtLeastOnceDelivery):
                    _commit_stored(consumer)
        except (FatalError, FencedError, KafkaException) as exc:
            if not self._closing:
                raise
            logger.warning("revoked while closing after a failure: %s", exc)
        self._forget(delivery, partitions, handed_over=True)

    def _on_lost(self, delivery: Delivery, partitions: list[TopicPartition]) -> None:
        logger.warning(
            "group membership lost (session timeout or poll interval exceeded); "
            "rejoining without %s",
            _names(partitions),
        )
        self.health.lost()
        # The poll in hand still finishes and its outputs are delivered: keep its offsets, to
        # commit them if the partitions come back (_commit_finished), not to run it again.
        self._forget(delivery, partitions, handed_over=False)

    def _forget(
        self, delivery: Delivery, partitions: list[TopicPartition], *, handed_over: bool
    ) -> None:
        gone = {(tp.topic, tp.partition) for tp in partitions}
        for tp in gone:
            self._deferred.pop(tp, None)
            self._heads.pop(tp, None)
        self._assigned -= gone
        if handed_over:
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
        at_least_once = isinstance(delivery, AtLeastOnceDelivery)
        self._closing = True
        try:
            if clean or at_least_once:
                delivery.drain(timeout_s=timeout)
            if at_least_once:
                _commit_stored(consumer)
        except (FatalError, FencedError, KafkaException) as exc:
            logger.error("offsets not committed on close: %s", exc)
        for step in (consumer.close, lambda: producer.flush(timeout)):
            try:
                step()
            except (FatalError, FencedError, KafkaException) as exc:
                logger.warning("closing the clients: %s", exc)
        self._work.close()
        logger.info("%s closed", self._name, extra={"group": self._settings.group_id})

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


def _commit_finished(
    consumer: Consumer, delivery: AtLeastOnceDelivery, partitions: list[TopicPartition]
) -> None:
    """Commit, for partitions given back, the offsets of work this member finished while it
    was out of the group (a poll-interval overrun or a session timeout mid-poll): otherwise
    the group would read those records again and write their older values over newer ones.
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


def _commit_stored(consumer: Consumer) -> None:
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:
            logger.warning("commit failed: %s", exc)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}/{tp.partition}" for tp in partitions)
