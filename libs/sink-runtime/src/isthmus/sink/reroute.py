"""The records of a command's outcome: its outputs, and (through the runtime's ``Rerouter``)
the retry, DLQ or parked copy of a failed or waiting one.

The sink's policy lives here: which failures wait on in the retry tiers (throttling and missing
prerequisites never reach the DLQ), and how long a missing prerequisite may be waited for.
Everything is produced through the delivery of the current poll; nothing commits here.
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
from isthmus.kafka.rerouting import Rerouter
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


class OutcomeWriter:
    """Produces the records of one poll's outcomes (the poll's delivery, the poll's clock)."""

    def __init__(self, *, ctx: SinkContext, delivery: Delivery, now: datetime) -> None:
        self._ctx = ctx
        self._delivery = delivery
        self._now = now
        self._copies = Rerouter(routes=ctx.routes, parked=ctx.parked)

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
            self._copies.retry(
                item.message,
                tier=tier,
                info=self._error_info(item, failure),
                origin=item.command.origin,
                delivery=self._delivery,
                now=self._now,
                awaits=getattr(failure, "awaits", ()),
            )
            ctx.metrics.parked.add(1, {"entity": item.command.entity, "reason": kind.value})
            self.emit(
                item,
                ctx.outcomes.retried(item.command, failure, now=self._now, latency_ms=latency_ms),
            )
            logger.warning("command sent to %s: %s", tier.topic, failure, extra=_where(item))
            return
        self._dead_letter(item, failure, latency_ms=latency_ms)

    def _dead_letter(
        self, item: Pending, failure: CommandFailedError, *, latency_ms: float
    ) -> None:
        ctx = self._ctx
        self._copies.dead_letter(
            item.message,
            info=self._error_info(item, failure),
            origin=item.command.origin,
            delivery=self._delivery,
            now=self._now,
        )
        ctx.metrics.dead_lettered.add(
            1, {"entity": item.command.entity, "failure": failure.failure.value}
        )
        self.emit(
            item,
            ctx.outcomes.dead_lettered(item.command, failure, now=self._now, latency_ms=latency_ms),
        )
        logger.warning("command dead-lettered: %s", failure, extra=_where(item))

    def dead_letter_raw(
        self,
        message: Message,
        failure: CommandFailedError,
        *,
        info: h.ErrorInfo | None,
        origin: str,
    ) -> None:
        self._copies.dead_letter(
            message,
            info=self._info(message, failure, previous=info),
            origin=origin,
            delivery=self._delivery,
            now=self._now,
        )
        self._ctx.metrics.dead_lettered.add(1, {"failure": failure.failure.value})

    def park_behind(
        self, message: Message, key: bytes, *, origin: str, info: h.ErrorInfo | None
    ) -> None:
        self._copies.park(
            message, key, origin=origin, info=info, delivery=self._delivery, now=self._now
        )
        self._ctx.metrics.parked.add(1, {"reason": "order"})

    def release(self, item: Pending) -> None:
        self._copies.release(item.raw_key, item.command.origin, self._delivery, now=self._now)

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
