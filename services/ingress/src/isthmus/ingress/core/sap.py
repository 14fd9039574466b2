"""SAP business events (CloudEvents 1.0, structured or binary HTTP mode) to pending events.

S/4 events are notifications carrying keys only, so every routed event asks for hydration: the
full entity is read through the S/4 connector before it is produced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.ingress.core import strict_json
from isthmus.ingress.core.events import Hydration, PendingEvent, envelope, now_iso
from isthmus.ingress.errors import MalformedError, UnsupportedMediaError
from isthmus.ingress.settings import SapRoute

_TYPE = re.compile(r"^sap\.s4\.beh\.([a-z0-9]+)\.v\d+\.[A-Za-z0-9]+\.([A-Za-z0-9]+)\.v\d+$")
_OPERATIONS = {"Created": "CREATED", "Changed": "UPDATED", "Deleted": "DELETED"}
_REQUIRED = ("id", "source", "type", "specversion")
STRUCTURED = "application/cloudevents+json"


MAX_KEY_LENGTH = 128
"""Longest event key accepted (S/4 keys are short: a material and plant are 44 characters)."""


@dataclass(frozen=True)
class CloudEventIn:
    """A received CloudEvent."""

    id: str
    source: str
    type: str
    time: str | None
    subject: str | None
    data: Any


def parse_cloud_event(
    *, content_type: str, headers: Mapping[str, str], body: bytes
) -> CloudEventIn:
    """Read a CloudEvent in structured mode (JSON envelope) or binary mode (``ce-*`` headers).

    Raises:
        UnsupportedMediaError: the content type is neither mode's JSON.
        MalformedError: not a valid CloudEvent; every problem is listed.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media not in (STRUCTURED, "application/json") and not media.endswith("+json"):
        raise UnsupportedMediaError("expected application/cloudevents+json or application/json")
    payload = strict_json.loads(body)
    if "ce-id" in headers or "ce-specversion" in headers:
        attributes = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
        attributes["data"] = payload
    elif isinstance(payload, Mapping):
        attributes = dict(payload)
    else:
        raise MalformedError("body is not a CloudEvent object")
    missing = [name for name in _REQUIRED if not isinstance(attributes.get(name), str)]
    missing = [name for name in missing if not attributes.get(name)]
    problems = [f"$.{name}: required attribute is missing" for name in missing]
    if attributes.get("specversion") not in (None, "1.0"):
        problems.append("$.specversion: only CloudEvents 1.0 is supported")
    if problems:
        raise MalformedError("not a CloudEvent", violations=tuple(problems))
    return CloudEventIn(
        id=str(attributes["id"]),
        source=str(attributes["source"]),
        type=str(attributes["type"]),
        time=_optional(attributes.get("time")),
        subject=_optional(attributes.get("subject")),
        data=attributes.get("data"),
    )


def object_type(event_type: str) -> tuple[str, str] | None:
    """``(salesorder, Created)`` from ``sap.s4.beh.salesorder.v1.SalesOrder.Created.v1``."""
    match = _TYPE.match(event_type)
    return (match.group(1), match.group(2)) if match else None


def event_for(
    event: CloudEventIn, *, routes: Mapping[str, SapRoute], correlation_id: str | None
) -> PendingEvent | None:
    """The pending event for a routed type, or None when no flow uses it.

    Raises:
        MalformedError: the event's data lacks the key of its object type.
    """
    parsed = object_type(event.type)
    route = routes.get(parsed[0]) if parsed else None
    if parsed is None or route is None:
        return None
    data = event.data if isinstance(event.data, Mapping) else {}
    key = _key(data, route.key)
    if key is None:
        raise MalformedError(
            "event without its key", violations=(f"$.data.{route.key}: required key is missing",)
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise MalformedError(
            "event key is not an S/4 key",
            violations=(
                f"$.data.{route.key}: at most {MAX_KEY_LENGTH} printable characters expected",
            ),
        )
    operation = _OPERATIONS.get(parsed[1], "STATUS_CHANGED" if "Sts" in parsed[1] else "UPDATED")
    hydrate = None
    if operation != "DELETED":
        hydrate = Hydration("s4", route.entity_set, str(key), route.expand, route.service)
    return PendingEvent(
        topic=route.topic,
        schema_name=route.schema_name,
        key=str(key),
        envelope=envelope(
            event_id=event.id,
            occurred_at=event.time or now_iso(),
            system="S4",
            operation=operation,
            message=event.type,
            origin_user=None,
            correlation_id=correlation_id or event.id,
        ),
        data=dict(data),
        ce_source=event.source,
        ce_type=event.type,
        hydration=hydrate,
    )


def _key(data: Mapping[str, Any], names: str) -> str | None:
    """The event's key: one field, or several joined by ``/`` (``Material/Plant``)."""
    parts = [data.get(name) for name in names.split("/")]
    if any(not isinstance(part, str | int) or str(part) == "" for part in parts):
        return None
    return "/".join(str(part) for part in parts)


def _optional(value: Any) -> str | None:
    return None if value is None else str(value)
