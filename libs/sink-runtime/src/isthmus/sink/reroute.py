"""Where a failed, parked or finished command's records go: retry tier, DLQ, parked, outputs.

Everything is produced through the runtime's delivery of the current poll; nothing commits here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from confluent_kafka import Message
from opentelemetry import trace

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery
from isthmus.kafka.records import Output
from isthmus.sink import outcomes
from isthmus.sink.context import SinkContext
from isthmus.sink.errors import CommandFailedError, FailureClass
from isthmus.sink.model import Command

logger = logging.getLogger(__name__)

TopicPartitionKey = tuple[str, int]

_RETRIED = frozenset({FailureClass.UNAVAILABLE, FailureClass.THROTTLED, FailureClass.DEPENDENCY})


@dataclass(frozen=True)
class Pending:
    """A decoded command of this poll and its message."""

    command: Command
    message: Message
    info: h.ErrorInfo | None

    @property
    def tp(self) -> TopicPartitionKey:
        """Where the message was read from."""
        return (self.message.topic() or "", self.message.partition() or 0)

    @property
    def raw_key(self) -> bytes:
        """The Kafka key."""
        return self.message.key() or b""


class Rerouter:
    """Produces the records of one poll's outcomes (the poll's delivery, the poll's clock)."""

    def __init__(self, *, ctx: SinkContext, delivery: Delivery, now: datetime) -> None:
        self._ctx = ctx
        self._delivery = delivery
        self._now = now

    def fail(self, item: Pending, failure: CommandFailedError, *, latency_ms: float) -> None:
        ctx = self._ctx
        topic = item.message.topic() or ""
        tier = ctx.routes.next_tier(topic)
        kind = failure.failure
        if tier is None and kind in {FailureClass.THROTTLED, FailureClass.DEPENDENCY}:
            tier = ctx.routes.tiers[-1] if ctx.routes.tiers else None  # wait on, never the DLQ
        if (
            kind is FailureClass.DEPENDENCY
            and self._waited_s(item) > ctx.settings.dependency_wait_s
        ):
            waited = f"{ctx.settings.dependency_wait_s:.0f}s"
            failure = CommandFailedError(
                f"prerequisite still missing after {waited}: {failure.message}",
                failure=FailureClass.DEPENDENCY,
            )
            tier = None
        retry = kind in _RETRIED
        if retry and tier is not None:
            info = self._error_info(item, failure)
            due = int(self._now.timestamp() * 1000) + tier.delay_ms
            headers = failures.retry_headers(h.of(item.message), info=info, due_ms=due)
            self._delivery.produce(tier.topic, item.raw_key, item.message.value(), headers)
            if ctx.parked.park(
                item.raw_key,
                item.command.origin,
                retry_topic=tier.topic,
                now_ms=due - tier.delay_ms,
            ):
                self._write_parked(item.raw_key, item.command.origin)
            ctx.metrics.parked.add(1, {"entity": item.command.entity, "reason": kind.value})
            self.emit(
                item,
                outcomes.retry_outputs(
                    item.command,
                    failure,
                    topics=ctx.topics,
                    service=ctx.service,
                    now=self._now,
                    latency_ms=latency_ms,
                ),
            )
            logger.warning("command sent to %s: %s", tier.topic, failure, extra=_where(item))
            return
        self._dead_letter(item, failure, latency_ms=latency_ms)

    def _dead_letter(
        self, item: Pending, failure: CommandFailedError, *, latency_ms: float
    ) -> None:
        ctx = self._ctx
        info = self._error_info(item, failure)
        headers = failures.dlq_headers(h.of(item.message), info=info)
        self._delivery.produce(ctx.routes.dlq, item.raw_key, item.message.value(), headers)
        ctx.metrics.dead_lettered.add(
            1, {"entity": item.command.entity, "failure": failure.failure.value}
        )
        self.emit(
            item,
            outcomes.dead_letter_outputs(
                item.command,
                failure,
                topics=ctx.topics,
                service=ctx.service,
                now=self._now,
                latency_ms=latency_ms,
            ),
        )
        self.release(item)
        logger.warning("command dead-lettered: %s", failure, extra=_where(item))

    def dead_letter_raw(
        self,
        message: Message,
        failure: CommandFailedError,
        *,
        info: h.ErrorInfo | None,
        origin: str,
    ) -> None:
        info = self._info(message, failure, previous=info)
        headers = failures.dlq_headers(h.of(message), info=info)
        self._delivery.produce(self._ctx.routes.dlq, message.key(), message.value(), headers)
        self._ctx.metrics.dead_lettered.add(1, {"failure": failure.failure.value})
        key = message.key()
        if key is not None and self._ctx.parked.release(key, origin):
            self._write_parked(key, origin)

    def park_behind(
        self, message: Message, key: bytes, *, origin: str, info: h.ErrorInfo | None
    ) -> None:
        ctx = self._ctx
        index = ctx.routes.tier_index(message.topic() or "")
        tier = ctx.routes.tiers[index or 0]
        head = ctx.parked.queue(key, origin)[0]
        parked = failures.next_error_info(
            previous=info,
            error_class=failures.PARKED_CLASS,
            message=f"waiting behind {head}",
            stage="order",
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            now=self._now,
        )
        due = int(self._now.timestamp() * 1000) + tier.delay_ms
        headers = failures.parked_headers(h.of(message), info=parked, head=head, due_ms=due)
        self._delivery.produce(tier.topic, key, message.value(), headers)
        ctx.metrics.parked.add(1, {"reason": "order"})
        if ctx.parked.park(key, origin, retry_topic=tier.topic, now_ms=due - tier.delay_ms):
            self._write_parked(key, origin)

    def release(self, item: Pending) -> None:
        if self._ctx.parked.release(item.raw_key, item.command.origin):
            self._write_parked(item.raw_key, item.command.origin)

    def _write_parked(self, key: bytes, origin: str) -> None:
        now_ms = int(self._now.timestamp() * 1000)
        stream, queue = self._ctx.parked.record(key, origin, now_ms=now_ms)
        self._delivery.produce(self._ctx.routes.parked, stream, queue, [])

    def emit(self, item: Pending, outputs: list[Output]) -> None:
        forwarded = [
            (name, value)
            for name, value in h.of(item.message)
            if name in (h.TRACEPARENT, h.TRACESTATE, h.CORRELATION_ID)
        ]
        span = item.command.span
        if span is not None and span.get_span_context().is_valid:
            context = trace.set_span_in_context(span)
            forwarded = h.merge(forwarded, h.trace_headers(context))
        for output in outputs:
            self._delivery.produce(*self._ctx.encode(output, forwarded=forwarded))

    def _waited_s(self, item: Pending) -> float:
        first = item.command.first_failure
        return 0.0 if first is None else (self._now - first).total_seconds()

    def _error_info(self, item: Pending, failure: CommandFailedError) -> h.ErrorInfo:
        return self._info(item.message, failure, previous=item.info)

    def _info(
        self, message: Message, failure: CommandFailedError, *, previous: h.ErrorInfo | None
    ) -> h.ErrorInfo:
        return failures.next_error_info(
            previous=previous,
            error_class=failure.failure.kafka_class,
            message=str(failure),
            stage="sink",
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            now=self._now,
        )


def _where(item: Pending) -> dict[str, object]:
    return {
        "topic": item.message.topic(),
        "partition": item.message.partition(),
        "offset": item.message.offset(),
        "key": item.command.key,
    }
