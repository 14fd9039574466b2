"""A source event on its way to Kafka, before and after hydration."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hydration:
    """Where the full record is read: a Dataverse row or an S/4 entity."""

    system: str
    collection: str
    key: str
    expand: tuple[str, ...] = ()
    service: str = ""


@dataclass
class PendingEvent:
    """One event to produce: Avro ``{envelope, data}`` in JSON shape plus its Kafka coordinates.

    ``dedup_id`` identifies redeliveries of the same source event (CloudEvents source + id +
    type); it is also the ``ce_id``/``ce_source``/``ce_type`` triple on the produced record.
    """

    topic: str
    schema_name: str
    key: str
    envelope: dict[str, Any]
    data: dict[str, Any]
    ce_source: str
    ce_type: str
    hydration: Hydration | None = None
    required_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """The source event id (``envelope.eventId``)."""
        return str(self.envelope["eventId"])

    @property
    def dedup_id(self) -> str:
        """What makes a redelivery recognisable: source, id and type."""
        return f"{self.ce_source}|{self.event_id}|{self.ce_type}"


def iso_millis(moment: dt.datetime) -> str:
    """RFC 3339 UTC with milliseconds."""
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    """The current time as ``iso_millis``."""
    return iso_millis(dt.datetime.now(dt.UTC))


def envelope(
    *,
    event_id: str,
    occurred_at: str,
    system: str,
    operation: str,
    message: str,
    origin_user: str | None,
    correlation_id: str | None,
    changed_fields: list[str] | None = None,
    source_version: str | None = None,
) -> dict[str, Any]:
    """An ``io.isthmus.common.EventEnvelope`` in JSON shape."""
    return {
        "eventId": event_id,
        "occurredAt": occurred_at,
        "system": system,
        "operation": operation,
        "message": message,
        "originUser": origin_user,
        "sourceVersion": source_version,
        "correlationId": correlation_id,
        "changedFields": changed_fields or [],
        "ingestedAt": now_iso(),
    }
