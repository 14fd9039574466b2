"""Audit events: one ``io.isthmus.audit.AuditEvent`` per hop of a record, built as an Output.

Every service adds the audit record to the outputs of the step it audits, so in exactly-once mode
the audit line and the effect are committed together, and in at-least-once mode the audit line
is acknowledged before the input offset is stored.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Required, TypedDict, Unpack

from isthmus.kafka import headers as h
from isthmus.kafka.records import Output, Record

AUDIT_TOPIC = "audit.events"
AUDIT_SCHEMA = "io.isthmus.audit.AuditEvent"


class Outcome(StrEnum):
    """The symbols of ``io.isthmus.audit.Outcome``."""

    SUCCEEDED = "SUCCEEDED"
    SKIPPED = "SKIPPED"
    DUPLICATE = "DUPLICATE"
    RETRIED = "RETRIED"
    DEAD_LETTERED = "DEAD_LETTERED"
    FAILED = "FAILED"
    REPLAYED = "REPLAYED"


def payload_digest(payload: bytes | None) -> str | None:
    """SHA-256 (hex) of the record's bytes, so the lake can prove which payload a hop saw."""
    return None if payload is None else hashlib.sha256(payload).hexdigest()


def trace_id(headers: h.Headers) -> str | None:
    """The W3C trace id from a ``traceparent`` header (``00-<trace>-<span>-<flags>``)."""
    raw = h.get_str(headers, h.TRACEPARENT)
    parts = raw.split("-") if raw else []
    return parts[1] if len(parts) == 4 else None  # noqa: PLR2004 - the W3C format has 4 parts


class Hop(TypedDict, total=False):
    """What one hop says of itself, whatever started it (a record or an HTTP request).

    ``service`` makes the hop (``transformer``), ``what`` says what happened in words (``S/4
    sales order created``), ``stage`` is the stage within the service (``map``, ``sink``...),
    ``outcome`` how it ended; ``flow`` is ``<flow id>@<version>`` where a flow decided it;
    ``target_id`` the id the target gave the document; ``error_class`` (``invalid``,
    ``retryable``, ``fatal``) and ``error`` when it failed; ``payload_json`` the payload itself,
    only where configured (PII already masked); ``now`` the hop's time (default: now, UTC).
    """

    service: Required[str]
    what: Required[str]
    stage: Required[str]
    outcome: Required[Outcome]
    flow: str | None
    entity: str | None
    target_id: str | None
    error_class: str | None
    error: str | None
    payload_json: str | None
    now: datetime | None


def audit_value(
    *,
    business_key: str | None,
    attempt: int = 1,
    payload: bytes | None = None,
    trace: str | None = None,
    correlation_id: str | None = None,
    source: tuple[str | None, int | None, int | None] = (None, None, None),
    **hop: Unpack[Hop],
) -> dict[str, Any]:
    """The ``AuditEvent`` value of one hop; every service's audit line is made here.

    ``payload`` gives the digest; ``source`` is the (topic, partition, offset) of the record
    handled (all None for a hop that starts at an HTTP request).
    """
    topic, partition, offset = source
    return {
        "eventId": str(uuid.uuid4()),
        "occurredAt": hop.get("now") or datetime.now(UTC),
        "service": hop["service"],
        "what": hop["what"],
        "flow": hop.get("flow"),
        "stage": hop["stage"],
        "entity": hop.get("entity"),
        "businessKey": business_key,
        "outcome": hop["outcome"].value,
        "attempt": attempt,
        "errorClass": hop.get("error_class"),
        "error": hop.get("error"),
        "payloadDigest": payload_digest(payload),
        "payload": hop.get("payload_json"),
        "traceId": trace,
        "correlationId": correlation_id,
        "sourceTopic": topic,
        "sourcePartition": partition,
        "sourceOffset": offset,
        "targetId": hop.get("target_id"),
    }


def audit_output(
    *, record: Record[Any, Any], raw_value: bytes | None = None, **hop: Unpack[Hop]
) -> Output:
    """The audit record of one hop of ``record`` (its key is the business key; ``raw_value``
    its bytes, for the payload digest)."""
    key = record.key if isinstance(record.key, str) else _text(record.raw_key)
    value = audit_value(
        business_key=key,
        attempt=record.attempt + 1,
        payload=raw_value,
        trace=trace_id(record.headers),
        correlation_id=record.correlation_id,
        source=(record.topic, record.partition, record.offset),
        **hop,
    )
    forwarded = {name: h.get(record.headers, name) for name in (h.TRACEPARENT, h.CORRELATION_ID)}
    return Output(
        topic=AUDIT_TOPIC,
        key=key,
        value=value,
        headers={name: raw for name, raw in forwarded.items() if raw is not None},
    )


def _text(raw: bytes | None) -> str:
    return "" if raw is None else raw.decode("utf-8", errors="replace")
