"""One record through the loop: decode, handle, encode, produce; or retry, DLQ, park."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode, Tracer
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery
from isthmus.kafka.errors import RetryableError, Stage
from isthmus.kafka.instrumentation import process_span, tracer
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.records import DeserializerLike, Handler, Output, Record, SerializerLike
from isthmus.kafka.rerouting import Rerouter
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import ProcessorSettings
from isthmus.telemetry.context import correlation
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)

Encoded = tuple[str, bytes | None, bytes | None, h.Headers]


class RecordSteps:
    """The per-record part of the loop; the processor owns batches, offsets and clients."""

    def __init__(
        self,
        *,
        settings: ProcessorSettings,
        routes: Routes,
        handler: Handler[object, object],
        parked: ParkedKeys,
        metrics: RuntimeMetrics,
        key_deserializer: DeserializerLike | None,
        value_deserializer: DeserializerLike | None,
        key_serializer: SerializerLike | None,
        value_serializer: SerializerLike | None,
        spans: Tracer | None = None,
    ) -> None:
        self._settings = settings
        self._routes = routes
        self._handler = handler
        self._parked = parked
        self._metrics = metrics
        self._key_deserializer = key_deserializer
        self._value_deserializer = value_deserializer
        self._key_serializer = key_serializer
        self._value_serializer = value_serializer
        self._tracer = spans or tracer()
        self._rerouter = Rerouter(routes=routes, parked=parked, metrics=metrics)
        self.produced = 0
        """Outputs produced since the last ``count_batch`` (counted per batch, not per record)."""
        self._retrying = Retrying(
            stop=stop_after_attempt(max(1, settings.in_place_attempts - 1)),
            wait=wait_exponential(
                multiplier=settings.in_place_backoff_s, max=settings.in_place_backoff_max_s
            ),
            retry=retry_if_exception_type(RetryableError),
            reraise=True,
        )

    def count_batch(self, consumed: int) -> None:
        """Add a batch's consumed and produced records to the metrics (two calls per batch)."""
        self._metrics.consumed.add(consumed)
        if self.produced:
            self._metrics.produced.add(self.produced)
            self.produced = 0

    def due_ms(self, message: Message) -> int | None:
        """When a record read from a retry topic is due (epoch ms); None for other topics."""
        if self._routes.tier_index(message.topic() or "") is None:
            return None
        return h.read_int(h.of(message), h.RETRY_DUE)

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
                self._rerouter.park(
                    message, key, origin=origin, info=inbound.info, delivery=delivery, now=now
                )
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
        info = h.read_error_info(headers)
        topic = message.topic() or ""
        if info is None or self._routes.tier_index(topic) is not None:
            return info
        # A replayed record is back on its source topic: it is its own origin now.
        return replace(
            info,
            source_topic=topic,
            source_partition=message.partition() or 0,
            source_offset=message.offset() or 0,
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
            self._rerouter.fail(
                inbound.message,
                exc,
                stage=stage,
                info=inbound.info,
                origin=inbound.origin,
                delivery=delivery,
                now=now,
            )
            return
        for topic, key, value, headers in encoded:
            delivery.produce(topic, key, value, headers)
        self.produced += len(encoded)
        key = inbound.message.key()
        if key is not None and self._parked:
            self._rerouter.release(key, inbound.origin, delivery)

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
        if self.info is not None:
            return self.info.origin
        message = self.message
        return f"{message.topic()}/{message.partition()}/{message.offset()}"


def _bytes(value: object) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    raise TypeError(f"serialized to {type(value).__name__}, expected bytes")
