"""One poll of a sink: admit, decode, run waves, and route every outcome (commit order below).

Nothing here commits. The poll's records produce their outputs, retry, DLQ and parked copies
through the runtime's delivery; the loop then stores the offsets ``PollBatch.offsets`` gives
(after the broker acknowledged every output). A partition with a held command (breaker open or
credential refused) stops at that command: its offset is not passed, the loop seeks back to it
and pauses the partition until the target answers again. The commands after it that were
answered all the same (other keys of the partition, in the same or an earlier wave) are named by
``answered_after_holds``, so the re-read skips them instead of sending them to the target again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry.trace import Status, StatusCode

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery, Offsets
from isthmus.kafka.instrumentation import process_span, tracer
from isthmus.kafka.records import Record
from isthmus.sink.context import SinkContext
from isthmus.sink.errors import CommandFailedError, FailureClass
from isthmus.sink.model import Command, Outcome, ResultStatus, Success
from isthmus.sink.reroute import OutcomeWriter, Pending, TopicPartitionKey
from isthmus.sink.waves import waves

logger = logging.getLogger(__name__)


class PollBatch:
    """The work of one poll; ``held`` and ``auth_failed`` tell the loop what to pause."""

    def __init__(self, *, ctx: SinkContext, delivery: Delivery, now: datetime) -> None:
        self._ctx = ctx
        self._now = now
        self._out = OutcomeWriter(ctx=ctx, delivery=delivery, now=now)
        self.offsets: Offsets = {}
        self.held: dict[TopicPartitionKey, int] = {}
        self._held_keys: set[str] = set()
        self._held_offsets: set[tuple[TopicPartitionKey, int]] = set()
        self._seen: dict[TopicPartitionKey, list[int]] = {}
        self.auth_failed: CommandFailedError | None = None

    def admit(self, message: Message) -> Pending | None:
        """Take one due message: park it behind its key, dead-letter it, or return it to run."""
        tp, offset = self.pass_offset(message)
        headers = h.of(message)
        info = (
            failures.inbound_info(
                headers,
                topic=tp[0],
                partition=tp[1],
                offset=offset,
                from_retry=self._ctx.routes.tier_index(tp[0]) is not None,
            )
            if h.get(headers, h.ERROR_CLASS)
            else None
        )
        origin = failures.origin_of(info, topic=tp[0], partition=tp[1], offset=offset)
        key = message.key()
        if key is not None and not self._ctx.parked.may_process(key, origin):
            self._out.park_behind(message, key, origin=origin, info=info)
            return None
        try:
            command = self._decode(message, info=info, origin=origin)
        except Exception as exc:
            failure = CommandFailedError(
                f"undecodable command: {exc}", failure=FailureClass.VALIDATION
            )
            self._out.dead_letter_raw(message, failure, info=info, origin=origin)
            return None
        span = process_span(
            tracer(),
            topic=command.record.topic,
            partition=tp[1],
            offset=message.offset() or 0,
            key=key,
            group=self._ctx.routes.group,
            parent=h.extract_context(headers),
        )
        return Pending(command=replace(command, span=span), message=message, info=info)

    def pass_offset(self, message: Message) -> tuple[TopicPartitionKey, int]:
        """Pass one message's offset (admitted, or answered before a rewind and skipped now)."""
        tp, offset = (message.topic() or "", message.partition() or 0), message.offset() or 0
        self.offsets[tp] = offset + 1
        self._seen.setdefault(tp, []).append(offset)
        return tp, offset

    def run(self, pending: list[Pending]) -> None:
        """Run the admitted commands wave by wave and route every outcome."""
        for wave in waves(pending, key=lambda p: p.command.key):
            ready = [p for p in (self._current(p) for p in wave if self._may_run(p)) if p]
            if not ready:
                continue
            metrics = self._ctx.metrics
            metrics.in_flight.add(len(ready))
            started = time.perf_counter()
            try:
                results = self._ctx.run(self._ctx.executor.execute([p.command for p in ready]))
            finally:
                metrics.in_flight.add(-len(ready))
            latency_ms = (time.perf_counter() - started) * 1000
            for item, outcome in zip(ready, results, strict=True):
                if not isinstance(outcome, CommandFailedError):
                    self._ctx.versions.applied(item.command)
                self._route(item, outcome, latency_ms=latency_ms)

    def _current(self, item: Pending) -> Pending | None:
        """The item to run (narrowed to the fields no newer version wrote), or None when a
        newer version of its record already wrote all it would (passed as DUPLICATE)."""
        decision = self._ctx.versions.decide(item.command)
        if decision.superseded_by is None:
            return replace(item, command=decision.command)
        superseded = Success(
            status=ResultStatus.DUPLICATE,
            target_id=None,
            message=f"superseded: version {decision.superseded_by} of this record was written",
        )
        self._done(item, superseded, latency_ms=0.0)  # no call: the breaker learns nothing
        _end(item)
        return None

    def finish(self) -> Offsets:
        """The offsets to store: a held partition stops at its first held command."""
        for tp, offset in self.held.items():
            self.offsets[tp] = offset
        return self.offsets

    def answered_after_holds(self) -> dict[TopicPartitionKey, set[int]]:
        """Per held partition, the offsets past its first held command that were answered."""
        return {
            tp: {o for o in self._seen[tp] if o > first and (tp, o) not in self._held_offsets}
            for tp, first in self.held.items()
        }

    def _may_run(self, item: Pending) -> bool:
        ctx = self._ctx
        if item.tp in self.held or item.command.key in self._held_keys or ctx.breaker.is_open:
            self._hold(item)
            return False
        if self.auth_failed is not None:
            self._hold(item)
            return False
        if not ctx.parked.may_process(item.raw_key, item.command.origin):
            # An earlier command of this key failed in this very poll: follow it.
            _end(item)
            self._out.park_behind(
                item.message, item.raw_key, origin=item.command.origin, info=item.info
            )
            return False
        return True

    def _hold(self, item: Pending) -> None:
        _end(item)
        offset = item.message.offset() or 0
        self.held[item.tp] = min(self.held.get(item.tp, offset), offset)
        self._held_offsets.add((item.tp, offset))
        self._held_keys.add(item.command.key)

    def _route(self, item: Pending, outcome: Outcome, *, latency_ms: float) -> None:
        span = item.command.span
        if span is not None and isinstance(outcome, CommandFailedError):
            span.set_status(Status(StatusCode.ERROR, str(outcome)))
        self._route_outcome(item, outcome, latency_ms=latency_ms)
        _end(item)

    def _route_outcome(self, item: Pending, outcome: Outcome, *, latency_ms: float) -> None:
        ctx = self._ctx
        entity = item.command.entity
        ctx.metrics.latency.record(latency_ms / 1000, {"entity": entity})
        if not isinstance(outcome, CommandFailedError):
            ctx.breaker.record_success()
            self._done(item, outcome, latency_ms=latency_ms)
            return
        ctx.metrics.commands.add(1, {"entity": entity, "outcome": outcome.failure.value})
        if outcome.failure is FailureClass.AUTH:
            self.auth_failed = outcome
            self._hold(item)
            return
        if outcome.failure is FailureClass.UNAVAILABLE:
            ctx.breaker.record_failure(now=time.monotonic())
            if ctx.breaker.is_open:
                self._hold(item)
                return
        self._out.fail(item, outcome, latency_ms=latency_ms)

    def _done(self, item: Pending, outcome: Success, *, latency_ms: float) -> None:
        ctx = self._ctx
        self._out.emit(
            item,
            ctx.outcomes.succeeded(item.command, outcome, now=self._now, latency_ms=latency_ms),
        )
        self._out.release(item)
        status = outcome.status.value
        ctx.metrics.commands.add(1, {"entity": item.command.entity, "outcome": status})

    def _decode(self, message: Message, *, info: h.ErrorInfo | None, origin: str) -> Command:
        source = info.source_topic if info else message.topic() or ""
        ctx = SerializationContext(source, MessageField.VALUE, message.headers())
        value = self._ctx.value_deserializer(message.value(), ctx)
        if not isinstance(value, dict):
            raise TypeError(f"expected a record, got {type(value).__name__}")
        raw_key = message.key()
        record: Record[str, dict[str, object]] = Record(
            topic=source,
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            timestamp_ms=message.timestamp()[1],
            key=(raw_key or b"").decode("utf-8", "replace"),
            value=value,
            headers=h.of(message),
            attempt=info.attempt if info else 0,
            delivered_from=message.topic() or "",
            raw_key=raw_key,
        )
        from_retry = self._ctx.routes.tier_index(message.topic() or "") is not None
        failed_before = (
            from_retry and info is not None and info.error_class != failures.PARKED_CLASS
        )
        return Command(
            record=record,
            entity=self._ctx.topics.entity_of(source),
            origin=origin,
            raw_value=message.value(),
            first_failure=info.first_failure if failed_before and info else None,
        )


def _end(item: Pending) -> None:
    span = item.command.span
    if span is not None and span.is_recording():
        span.end()
