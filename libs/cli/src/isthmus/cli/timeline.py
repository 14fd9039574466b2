"""A record's journey: the audit events of one business key and of everything correlated to it.

An order changes keys on its way (the D365 ``salesorderid``, then the S/4 ``SalesOrder``), so
the timeline follows the correlation and trace ids of the hops that carry the key asked for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Hop:
    """One audit event, as the timeline shows it."""

    occurred_at: datetime
    service: str
    stage: str
    what: str
    outcome: str
    business_key: str
    attempt: int
    flow: str | None
    target_id: str | None
    error: str | None
    trace_id: str | None
    correlation_id: str | None
    source: str | None

    @classmethod
    def of(cls, event: Mapping[str, Any]) -> Hop:
        """Build a hop from a decoded ``io.isthmus.audit.AuditEvent``."""
        topic = event.get("sourceTopic")
        source = (
            f"{topic}[{event.get('sourcePartition')}]@{event.get('sourceOffset')}"
            if topic
            else None
        )
        return cls(
            occurred_at=event["occurredAt"],
            service=event["service"],
            stage=event["stage"],
            what=event["what"],
            outcome=str(event["outcome"]),
            business_key=event["businessKey"],
            attempt=int(event.get("attempt", 1)),
            flow=event.get("flow"),
            target_id=event.get("targetId"),
            error=event.get("error"),
            trace_id=event.get("traceId"),
            correlation_id=event.get("correlationId"),
            source=source,
        )


@dataclass(frozen=True)
class Links:
    """The ids that tie hops of one journey together."""

    keys: frozenset[str]
    correlation_ids: frozenset[str]
    trace_ids: frozenset[str]


def links_of(hops: Iterable[Hop], *, key: str) -> Links:
    """Correlation and trace ids of the hops about ``key``, and the keys they lead to."""
    direct = [hop for hop in hops if key in (hop.business_key, hop.target_id)]
    keys = {key} | {hop.target_id for hop in direct if hop.target_id}
    return Links(
        keys=frozenset(keys),
        correlation_ids=frozenset(hop.correlation_id for hop in direct if hop.correlation_id),
        trace_ids=frozenset(hop.trace_id for hop in direct if hop.trace_id),
    )


def belongs(hop: Hop, links: Links) -> bool:
    """True when ``hop`` is part of the journey the links describe."""
    return (
        hop.business_key in links.keys
        or (hop.target_id is not None and hop.target_id in links.keys)
        or (hop.correlation_id is not None and hop.correlation_id in links.correlation_ids)
        or (hop.trace_id is not None and hop.trace_id in links.trace_ids)
    )


def timeline(hops: Iterable[Hop], *, key: str) -> list[Hop]:
    """Every hop of the journey of ``key``, oldest first."""
    collected = list(hops)
    links = links_of(collected, key=key)
    return sorted((hop for hop in collected if belongs(hop, links)), key=lambda h: h.occurred_at)
