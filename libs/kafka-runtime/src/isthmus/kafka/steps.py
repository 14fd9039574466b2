"""A stream processor's work: one record at a time through decode, handle, encode, produce;
or retry, DLQ, park."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery
from isthmus.kafka.errors import ErrorClass, FatalError, RetryableError, Stage
from isthmus.kafka.instrumentation import process_span, tracer
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.records import Codecs, Handler, Output, Record
from isthmus.kafka.rerouting import Rerouter
from isthmus.kafka.routing import Routes, classify
from isthmus.kafka.settings import ProcessorSettings
from isthmus.kafka.work import Handled
from isthmus.telemetry.context import correlation
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)

Encoded = tuple[str, bytes | None, bytes | None, h.Headers]


class RecordWork:
    """The ``Work`` of a stream processor: every due record through ``RecordSteps``, in order."""

    def __init__(self, steps: RecordSteps) -> None:
        self._steps = steps

    def handle(self, messages: Sequence[Message], *, delivery: Delivery, now: datetime) -> Handled:
        """Process each record; every one passes (its outcome is an output, retry, DLQ or park)."""
        offsets = {}
        for message in messages:
            self._steps.process(message, delivery=delivery, now=now)
            offsets[(message.topic() or "", message.partition() or 0)] = (message.offset() or 0) + 1
        self._steps.count_produced()
        return Handled(offsets=offsets)

    def probe(self) -> bool:
        """A pure handler never holds consumption."""
        return True

    def close(self) -> None:
        """Nothing to release."""


class RecordSteps:
    """The per-record part of a stream processor; the loop owns polls, offsets and clients."""

    def __init__(
        self,
        *,
        settings: ProcessorSettings,
        routes: Routes,
        handler: Handler[object, object],
        parked: ParkedKeys,
        metrics: RuntimeMetrics,
        codecs: Codecs,
        spans: Tracer | None = None,
    ) -> None:
        self._settings = settings
        self._routes = routes
        self._handler = handler
        self._parked = parked
        self._metrics = metrics
        self._key_deserializer = codecs.key_deserializer
        self._value_deserializer = codecs.value_deserializer
        self._key_serializer = codecs.key_serializer
        self._value_serializer = codecs.value_serializer
        self._tracer = spans or tracer()
        self._rerouter = Rerouter(routes=routes, parked=parked)
        self.produced = 0
        """Outputs produced since the last ``count_produced`` (counted per poll, not per record)."""
        self._retrying = Retrying(
            stop=stop_after_attempt(max(1, settings.in_place_attempts - 1)),
            wait=wait_exponential(
                multiplier=settings.in_place_backoff_s, max=settings.in_place_backoff_max_s
            ),
            retry=retry_if_exception_type(RetryableError),
            reraise=True,
        )

    def count_produced(self) -> None:
        """Add the outputs produced since the last call to the metrics (one call per poll)."""
        if self.produced:
            self._metrics.produced.add(self.produced)
            self.produced = 0

    def process(self, message: Message, *, delivery: Delivery, now: datetime) -> None:
        """Take one record through the loop; every outcome is produced through ``delivery``.

        Raises:
            FatalError: the handler raised a fatal (or unexpected) error.
        """
        headers = h.of(message)
        named = dict(headers)  # one pass; the last header of a name wins, as in ``h.get``
        inbound = _Inbound(message=message, headers=headers, info=None, source="")
        inbound.info = self._error_info(message, headers) if h.ERROR_CLASS in named else None
        inbound.source = inbound.info.source_topic if inbound.info else message.topic() or ""
        key = message.key()
        if key is not None and self._parked:
            origin = inbound.origin
            if not self._parked.may_process(key, origin):
                tier = self._rerouter.park(
                    message, key, origin=origin, info=inbound.info, delivery=delivery, now=now
                )
                self._metrics.parked.add(1, {"topic": tier.topic})
                return
        raw_correlation = named.get(h.CORRELATION_ID) or named.get(h.CE_ID)
        correlation_id = raw_correlation.decode("utf-8", "replace") if raw_correlation else None
        with correlation(correlation_id):
            span = process_span(
                self._tracer,
                topic=inbound.source,
                partition=message.partition() or 0,
                offset=message.offset() or 0,
                key=key,
                group=self._settings.group_id,
                parent=h.extract_context(named) if h.TRACEPARENT in named else None,
            )
            if not span.is_recording() and not span.get_span_context().is_valid:
                self._run(inbound, delivery=delivery, span=span, now=now, correlation_id=None)
                return  # tracing is off and no trace came in: skip the context switch
            with trace.use_span(span, end_on_exit=True):
                self._run(
                    inbound, delivery=delivery, span=span, now=now, correlation_id=correlation_id
                )

    def _error_info(self, message: Message, headers: h.Headers) -> h.ErrorInfo | None:
        topic = message.topic() or ""
        return failures.inbound_info(
            headers,
            topic=topic,
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            from_retry=self._routes.tier_index(topic) is not None,
        )

    def _run(
        self,
        inbound: _Inbound,
        *,
        delivery: Delivery,
        span: Span,
        now: datetime,
        correlation_id: str | None,
    ) -> None:
        stage = Stage.DECODE
        try:
            record = self._decode(inbound)
            stage = Stage.HANDLE
            outputs = self._handle(record)
            stage = Stage.ENCODE
            extra = _forwarded(correlation_id, span) if outputs else {}
            encoded = [self._encode(output, extra) for output in outputs]
        except Exception as exc:  # every failure is classified and routed, none escapes
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
            self._fail(inbound, exc, stage=stage, delivery=delivery, now=now)
            return
        for topic, key, value, headers in encoded:
            delivery.produce(topic, key, value, headers)
        self.produced += len(encoded)
        key = inbound.message.key()
        if key is not None and self._parked:
            self._rerouter.release(key, inbound.origin, delivery)

    def _fail(
        self, inbound: _Inbound, exc: Exception, *, stage: Stage, delivery: Delivery, now: datetime
    ) -> None:
        """Send a failed record to its next retry tier or the DLQ, by the error's class.

        Raises:
            FatalError: the error is fatal; nothing was produced for the record.
        """
        message = inbound.message
        error_class = classify(exc, stage=stage)
        self._metrics.failed.add(1, {"error.class": error_class.value, "stage": stage.value})
        where = _where(message)
        if error_class is ErrorClass.FATAL:
            raise FatalError(f"{type(exc).__name__}: {exc}", stage=stage, **where) from exc
        info = failures.next_error_info(
            previous=inbound.info,
            error_class=error_class.value,
            message=f"{type(exc).__name__}: {exc}",
            stage=stage.value,
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            now=now,
        )
        tier = self._routes.next_tier(message.topic() or "")
        if error_class is ErrorClass.RETRYABLE and tier is not None:
            self._rerouter.retry(
                message,
                tier=tier,
                info=info,
                origin=inbound.origin,
                delivery=delivery,
                now=now,
                awaits=getattr(exc, "awaits", ()),
            )
            self._metrics.retried.add(1, {"topic": tier.topic})
            logger.warning("record sent to %s: %s", tier.topic, exc, extra=where)
            return
        self._rerouter.dead_letter(
            message, info=info, origin=inbound.origin, delivery=delivery, now=now
        )
        self._metrics.dead_lettered.add(1, {"error.class": error_class.value})
        logger.warning("record dead-lettered to %s: %s", self._routes.dlq, exc, extra=where)

    def _decode(self, inbound: _Inbound) -> Record[Any, Any]:
        message = inbound.message
        raw_key, raw_value = message.key(), message.value()
        key: Any = raw_key
        value: Any = raw_value
        # confluent's stub wants str|bytes|None values; ours are a subset (list is invariant)
        headers = cast("list[tuple[str, str | bytes | None]]", inbound.headers)
        if self._key_deserializer is not None:
            ctx = SerializationContext(inbound.source, MessageField.KEY, headers)
            key = self._key_deserializer(raw_key, ctx)
        if self._value_deserializer is not None:
            ctx = SerializationContext(inbound.source, MessageField.VALUE, headers)
            value = self._value_deserializer(raw_value, ctx)
        return Record(
            topic=inbound.source,
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            timestamp_ms=message.timestamp()[1],
            key=key,
            value=value,
            headers=inbound.headers,
            attempt=inbound.info.attempt if inbound.info else 0,
            delivered_from=message.topic() or "",
            raw_key=raw_key,
        )

    def _handle(self, record: Record[Any, Any]) -> Sequence[Output]:
        started = time.perf_counter()
        try:
            return self._handler(record)
        except RetryableError:
            if self._settings.in_place_attempts <= 1:
                raise
            # Only a failed record pays for tenacity: short in-place backoff, then retry topics.
            time.sleep(self._settings.in_place_backoff_s)
            return self._retrying(self._handler, record)
        finally:
            self._metrics.handler_latency.record(
                time.perf_counter() - started, {"topic": record.topic}
            )

    def _encode(self, output: Output, extra: dict[str, bytes | None]) -> Encoded:
        key = output.key
        if self._key_serializer is not None and key is not None:
            key = self._key_serializer(key, SerializationContext(output.topic, MessageField.KEY))
        value = output.value
        if self._value_serializer is not None and value is not None:
            ctx = SerializationContext(output.topic, MessageField.VALUE)
            value = self._value_serializer(value, ctx)
        headers = (
            h.merge(list(output.headers.items()), extra)
            if extra
            else [(k, v) for k, v in output.headers.items() if v is not None]
        )
        return output.topic, _bytes(key), _bytes(value), headers


def _forwarded(correlation_id: str | None, span: Span) -> dict[str, bytes | None]:
    """Headers every output of a record carries: its correlation id and its trace context.

    The trace context is the record's ``process`` span (or the context that came in when
    tracing is off), so a downstream hop continues the trace as a child of this hop; one
    context per record, not a span per output.
    """
    extra: dict[str, bytes | None] = {}
    if correlation_id:
        extra[h.CORRELATION_ID] = correlation_id.encode()
    if span.get_span_context().is_valid:
        extra.update(h.trace_headers(trace.set_span_in_context(span)))
    return extra


@dataclass(slots=True)
class _Inbound:
    """One consumed record and what the loop learnt from its headers."""

    message: Message
    headers: h.Headers
    info: h.ErrorInfo | None
    source: str

    @property
    def origin(self) -> str:
        """``topic/partition/offset`` of the source record (its identity across retries)."""
        message = self.message
        return failures.origin_of(
            self.info,
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
        )


def _where(message: Message) -> dict[str, Any]:
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": message.key(),
    }


def _bytes(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"serialized to {type(value).__name__}, expected bytes")
