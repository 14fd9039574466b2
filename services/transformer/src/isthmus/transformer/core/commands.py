"""The parts of a command the flow engine leaves to the caller: header fields and record headers."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from isthmus.kafka import headers as h
from isthmus.kafka.records import Output, Record
from isthmus.mapping import Flow, LookupPort

FLOW_HEADER = "isthmus_flow"
FLOW_VERSION_HEADER = "isthmus_flow_version"
VIOLATIONS_HEADER = "isthmus_flow_violations"
CE_SOURCE_PREFIX = "/isthmus/transformer/"

_COMMAND_IDS = uuid.UUID("6f3c1a52-8a9e-4d0b-9d6e-3b8f1c2a7e10")


def flow_name(flow: Flow) -> str:
    """``<flow id>@<version>``, as commands, headers and audit events name a flow version."""
    return f"{flow.id}@{flow.version}"


def command_id(*, record: Record[Any, Any], flow: Flow) -> str:
    """A UUID derived from the input coordinates and the flow version.

    A record processed again after an aborted transaction yields the same command id, so the
    sinks' idempotency sees one command, not two.
    """
    name = f"{record.topic}/{record.partition}/{record.offset}/{flow_name(flow)}"
    return str(uuid.uuid5(_COMMAND_IDS, name))


def envelope_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's envelope (empty when absent)."""
    envelope = event.get("envelope")
    return envelope if isinstance(envelope, Mapping) else {}


def stamp_command(
    *,
    target: Mapping[str, Any],
    flow: Flow,
    record: Record[Any, Any],
    event: Mapping[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The target with ``header`` completed: commandId, issuedAt, flow, causation, correlation.

    The flow fills ``header.idempotency``; fields the flow set itself are kept.
    """
    envelope = envelope_of(event)
    header = dict(target.get("header") or {})
    header.setdefault("commandId", command_id(record=record, flow=flow))
    header.setdefault("issuedAt", now)
    header["flow"] = flow_name(flow)
    header.setdefault("causationId", envelope.get("eventId") or record.correlation_id)
    header.setdefault("correlationId", envelope.get("correlationId") or record.correlation_id)
    return {**target, "header": header}


def command_headers(
    *, command: Mapping[str, Any], flow: Flow, record: Record[Any, Any], key: str | None
) -> dict[str, bytes | None]:
    """Record headers of a command: flow id and version, CloudEvents, trace and correlation."""
    header = command["header"]
    issued = header["issuedAt"]
    cloud = h.CloudEvent(
        id=str(header["commandId"]),
        source=f"{CE_SOURCE_PREFIX}{flow.id}",
        type=flow.target.command_type,
        time=issued,
        subject=key,
    )
    correlation = header.get("correlationId") or record.correlation_id
    return {
        **cloud.headers(),
        FLOW_HEADER: flow.id.encode(),
        FLOW_VERSION_HEADER: str(flow.version).encode(),
        h.CORRELATION_ID: correlation.encode() if correlation else None,
        h.TRACEPARENT: h.get(record.headers, h.TRACEPARENT),
        h.TRACESTATE: h.get(record.headers, h.TRACESTATE),
    }


def command_output(
    *,
    target: Mapping[str, Any],
    flow: Flow,
    record: Record[Any, Any],
    event: Mapping[str, Any],
    now: datetime,
    lookups: LookupPort | None = None,
) -> Output:
    """The command record of one mapped target, keyed by the flow's key (else the input key).

    Raises:
        MappingError: the flow's key expression fails on this record.
    """
    key = flow.key(event, lookups) or (record.key if isinstance(record.key, str) else None)
    command = stamp_command(target=target, flow=flow, record=record, event=event, now=now)
    headers = command_headers(command=command, flow=flow, record=record, key=key)
    return Output(topic=flow.target.topic, key=key, value=command, headers=headers)
