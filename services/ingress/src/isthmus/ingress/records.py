"""What the ingress produces besides the event itself: headers, filled columns, audit lines."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from isthmus.ingress.core.events import PendingEvent
from isthmus.kafka import audit
from isthmus.kafka import headers as h

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestContext:
    """Per-request metadata carried to every produced record."""

    traceparent: str
    correlation_id: str
    channel: str


def event_headers(
    event: PendingEvent, envelope: dict[str, Any], request: RequestContext
) -> h.Headers:
    cloud_event = h.CloudEvent(
        id=event.event_id,
        source=event.ce_source,
        type=event.ce_type,
        time=envelope["occurredAt"],
        subject=event.key,
    )
    values = {
        **cloud_event.headers(),
        h.TRACEPARENT: request.traceparent.encode(),
        h.CORRELATION_ID: request.correlation_id.encode(),
    }
    return [(name, raw) for name, raw in values.items() if raw is not None]


def fill_required(event: PendingEvent, schema: dict[str, Any]) -> None:
    """Required text columns the source did not send become "" (logged), e.g. on a Delete."""
    data_schema = next(f["type"] for f in schema["fields"] if f["name"] == "data")
    if not isinstance(data_schema, dict):
        return
    filled = []
    for spec in data_schema.get("fields", []):
        if "default" in spec or spec["type"] != "string" or event.data.get(spec["name"]):
            continue
        if spec["name"] not in event.data or event.data[spec["name"]] is None:
            event.data[spec["name"]] = ""
            filled.append(spec["name"])
    if filled:
        logger.info("required fields not sent by the source", extra={"fields": filled})


def audit_value(
    event: PendingEvent,
    *,
    payload: bytes | None,
    request: RequestContext,
    entity: str | None,
    outcome: str,
    what: str,
) -> dict[str, Any]:
    """The ``AuditEvent`` of one event's ingress hop (``payload``: the record's bytes;
    ``entity`` from the topic catalogue)."""
    return audit.audit_value(
        service="ingress",
        what=f"{event.envelope['message']} {what} from {request.channel}",
        stage=request.channel,
        outcome=audit.Outcome(outcome),
        business_key=event.key,
        entity=entity,
        payload=payload,
        trace=request.traceparent.split("-")[1],
        correlation_id=request.correlation_id,
        source=(event.topic, None, None),  # the topic the event goes to; no offset yet
    )
