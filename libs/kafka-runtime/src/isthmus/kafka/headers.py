"""Kafka record headers: CloudEvents binary mode, W3C trace context, correlation and error info.

Headers travel as confluent-kafka gives them: a list of ``(name, bytes)`` pairs, where a name may
repeat and the last one wins. Every function here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from confluent_kafka import Message
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter

Headers = list[tuple[str, bytes]]

CE_ID = "ce_id"
CE_SOURCE = "ce_source"
CE_TYPE = "ce_type"
CE_TIME = "ce_time"
CE_SUBJECT = "ce_subject"
CE_SPECVERSION = "ce_specversion"
TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"
CORRELATION_ID = "isthmus_correlation_id"
REPLAYED_FROM = "isthmus_replayed_from"
RETRY_DUE = "isthmus_retry_due"
PARKED_BEHIND = "isthmus_parked_behind"
AWAITS = "isthmus_awaits"  # JSON list of the table keys a retried record waits for

ERROR_PREFIX = "isthmus_error_"
ERROR_CLASS = "isthmus_error_class"
ERROR_MESSAGE = "isthmus_error_message"
ERROR_STAGE = "isthmus_error_stage"
ERROR_SOURCE_TOPIC = "isthmus_error_source_topic"
ERROR_SOURCE_PARTITION = "isthmus_error_source_partition"
ERROR_SOURCE_OFFSET = "isthmus_error_source_offset"
ERROR_ATTEMPT = "isthmus_error_attempt"
ERROR_FIRST_FAILURE = "isthmus_error_first_failure"

_MAX_MESSAGE_BYTES = 2_000


def of(message: Message) -> Headers:
    """The headers of a consumed message as ``(name, bytes)`` pairs (absent values as b"")."""
    raw = message.headers()
    if not raw:
        return []
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(k, v.encode() if isinstance(v, str) else (v or b"")) for k, v in pairs]


def get(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> bytes | None:
    """The last value of header ``name``, or None when absent."""
    for key, value in reversed(headers or ()):
        if key == name:
            return value
    return None


def get_str(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> str | None:
    """Like ``get``, decoded as UTF-8 (undecodable bytes are replaced, never raised)."""
    value = get(headers, name)
    return None if value is None else value.decode("utf-8", errors="replace")


def merge(
    headers: Iterable[tuple[str, bytes | None]] | None, updates: Mapping[str, bytes | None]
) -> Headers:
    """Copy ``headers`` with every name in ``updates`` replaced (None removes it)."""
    kept = [(k, v if v is not None else b"") for k, v in headers or () if k not in updates]
    return kept + [(k, v) for k, v in updates.items() if v is not None]


def without_prefix(headers: Iterable[tuple[str, bytes | None]] | None, prefix: str) -> Headers:
    """Copy ``headers`` without the ones whose name starts with ``prefix``."""
    return [(k, v if v is not None else b"") for k, v in headers or () if not k.startswith(prefix)]


@dataclass(frozen=True)
class CloudEvent:
    """The CloudEvents 1.0 context attributes carried in binary mode (``ce_*`` headers)."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    specversion: str = "1.0"

    def headers(self) -> dict[str, bytes | None]:
        """The ``ce_*`` headers of this event."""
        return {
            CE_SPECVERSION: self.specversion.encode(),
            CE_ID: self.id.encode(),
            CE_SOURCE: self.source.encode(),
            CE_TYPE: self.type.encode(),
            CE_TIME: format_time(self.time).encode(),
            CE_SUBJECT: None if self.subject is None else self.subject.encode(),
        }


def read_cloud_event(headers: Sequence[tuple[str, bytes | None]] | None) -> CloudEvent | None:
    """The CloudEvent of a record, or None when a required ``ce_*`` header is missing or bad."""
    values = {name: get_str(headers, name) for name in (CE_ID, CE_SOURCE, CE_TYPE, CE_TIME)}
    event_id, source, kind, time = (values[n] for n in (CE_ID, CE_SOURCE, CE_TYPE, CE_TIME))
    if not (event_id and source and kind and time):
        return None
    try:
        parsed = parse_time(time)
    except ValueError:
        return None
    return CloudEvent(
        id=event_id,
        source=source,
        type=kind,
        time=parsed,
        subject=get_str(headers, CE_SUBJECT),
        specversion=get_str(headers, CE_SPECVERSION) or "1.0",
    )


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds, e.g. ``2026-01-31T12:00:00.123Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (``Z`` or offset).

    Raises:
        ValueError: not a timestamp.
    """
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return parsed


class _HeaderGetter(Getter[Mapping[str, bytes]]):
    def get(self, carrier: Mapping[str, bytes], key: str) -> list[str] | None:
        value = carrier.get(key)
        return None if value is None else [value.decode("utf-8", errors="replace")]

    def keys(self, carrier: Mapping[str, bytes]) -> list[str]:
        return list(carrier)


_GETTER = _HeaderGetter()


def extract_context(headers: Mapping[str, bytes] | Sequence[tuple[str, bytes]] | None) -> Context:
    """The OpenTelemetry context carried in ``traceparent``/``tracestate`` (empty if none)."""
    carrier = headers if isinstance(headers, Mapping) else dict(headers or ())
    return propagate.extract(carrier, getter=_GETTER)


def trace_headers(context: Context | None = None) -> dict[str, bytes | None]:
    """The W3C trace headers of ``context`` (default: the current span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return {
        TRACEPARENT: carrier[TRACEPARENT].encode() if TRACEPARENT in carrier else None,
        TRACESTATE: carrier[TRACESTATE].encode() if carrier.get(TRACESTATE) else None,
    }


@dataclass(frozen=True)
class ErrorInfo:
    """The failure context a retry or DLQ record carries in ``isthmus_error_*`` headers."""

    error_class: str
    message: str
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    attempt: int
    first_failure: datetime

    @property
    def origin(self) -> str:
        """``topic/partition/offset`` of the source record: its identity across retries."""
        return f"{self.source_topic}/{self.source_partition}/{self.source_offset}"

    def headers(self) -> dict[str, bytes | None]:
        """The ``isthmus_error_*`` headers (the message is cut to 2,000 bytes)."""
        message = self.message.encode("utf-8", errors="replace")[:_MAX_MESSAGE_BYTES]
        return {
            ERROR_CLASS: self.error_class.encode(),
            ERROR_MESSAGE: message,
            ERROR_STAGE: self.stage.encode(),
            ERROR_SOURCE_TOPIC: self.source_topic.encode(),
            ERROR_SOURCE_PARTITION: str(self.source_partition).encode(),
            ERROR_SOURCE_OFFSET: str(self.source_offset).encode(),
            ERROR_ATTEMPT: str(self.attempt).encode(),
            ERROR_FIRST_FAILURE: format_time(self.first_failure).encode(),
        }


def read_error_info(headers: Sequence[tuple[str, bytes | None]] | None) -> ErrorInfo | None:
    """The error context of a retry/DLQ record, or None when absent or malformed."""
    try:
        return ErrorInfo(
            error_class=_required(headers, ERROR_CLASS),
            message=get_str(headers, ERROR_MESSAGE) or "",
            stage=_required(headers, ERROR_STAGE),
            source_topic=_required(headers, ERROR_SOURCE_TOPIC),
            source_partition=int(_required(headers, ERROR_SOURCE_PARTITION)),
            source_offset=int(_required(headers, ERROR_SOURCE_OFFSET)),
            attempt=int(_required(headers, ERROR_ATTEMPT)),
            first_failure=parse_time(_required(headers, ERROR_FIRST_FAILURE)),
        )
    except (KeyError, ValueError):
        return None


def _required(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> str:
    value = get_str(headers, name)
    if value is None:
        raise KeyError(name)
    return value


def read_int(headers: Sequence[tuple[str, bytes | None]] | None, name: str) -> int | None:
    """An integer header, or None when absent or not a number."""
    value = get_str(headers, name)
    try:
        return None if value is None else int(value)
    except ValueError:
        return None
