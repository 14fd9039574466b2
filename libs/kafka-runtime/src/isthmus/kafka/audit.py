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
from typing import Any

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


def audit_value(
    *,
    service: str,
    what: str,
    stage: str,
    outcome: Outcome,
    business_key: str | None,
    attempt: int = 1,
    flow: str | None = None,
    entity: str | None = None,
    target_id: str | None = None,
    error_class: str | None = None,
    error: str | None = None,
    payload: bytes | None = None,
    payload_json: str | None = None,
    trace: str | None = None,
    correlation_id: str | None = None,
    source: tuple[str | None, int | None, int | None] = (None, None, None),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``AuditEvent`` value of one hop; every service's audit line is made here.

    ``payload`` gives the digest; ``source`` is the (topic, partition, offset) of the record
    handled (all None for a hop that starts at an HTTP request).
    """
    topic, partition, offset = source
    return {
        "eventId": str(uuid.uuid4()),
        "occurredAt": now or datetime.now(UTC),
        "service": service,
        "what": what,
        "flow": flow,
        "stage": stage,
        "entity": entity,
        "businessKey": business_key,
        "outcome": outcome.value,
        "attempt": attempt,
        "errorClass": error_class,
        "error": error,
        "payloadDigest": payload_digest(payload),
        "payload": payload_json,
        "traceId": trace,
        "correlationId": correlation_id,
        "sourceTopic": topic,
        "sourcePartition": partition,
        "sourceOffset": offset,
        "targetId": target_id,
    }


def audit_output(
    *,
    record: Record[Any, Any],
    service: str,
    what: str,
    stage: str,
    outcome: Outcome,
    flow: str | None = None,
    entity: str | None = None,
    target_id: str | None = None,
    error_class: str | None = None,
    error: str | None = None,
    raw_value: bytes | None = None,
    payload_json: str | None = None,
    now: datetime | None = None,
) -> Output:
    """Build the audit record for one hop of ``record``.

    Args:
        record: the input record the hop handled (its key is the business key).
        service: the service making the hop, e.g. ``transformer``.
        what: what happened, in words (``S/4 sales order created``).
        stage: the stage within the service (``map``, ``validate``, ``sink``...).
        outcome: how the hop ended.
        flow: ``<flow id>@<version>`` where a flow decided the hop.
        entity: the entity handled.
        target_id: the id the target system gave the document, when known.
        error_class: ``invalid``, ``retryable`` or ``fatal`` when it failed.
        error: the error message when it failed.
        raw_value: the input's bytes, for the payload digest.
        payload_json: the payload itself, only where configured (PII already masked).
        now: the hop's time (defaults to the current UTC time).
    """
    key = record.key if isinstance(record.key, str) else _text(record.raw_key)
    value = audit_value(
        service=service,
        what=what,
        stage=stage,
        outcome=outcome,
        business_key=key,
        attempt=record.attempt + 1,
        flow=flow,
        entity=entity,
        target_id=target_id,
        error_class=error_class,
        error=error,
        payload=raw_value,
        payload_json=payload_json,
        trace=trace_id(record.headers),
        correlation_id=record.correlation_id,
        source=(record.topic, record.partition, record.offset),
        now=now,
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
