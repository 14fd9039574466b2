"""Which flows handle a record: an immutable snapshot of the enabled flows, by source topic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from isthmus.mapping import Flow


def event_type_of(event: Mapping[str, Any]) -> str:
    """The source's own name of the event: ``envelope.message`` (e.g. ``Create``)."""
    envelope = event.get("envelope")
    message = envelope.get("message") if isinstance(envelope, Mapping) else None
    return message if isinstance(message, str) else ""


@dataclass(frozen=True)
class Dispatch:
    """The flows that handle one record, and the names of those that saw an echo of our writes."""

    flows: tuple[Flow, ...]
    event_type: str


@dataclass(frozen=True)
class FlowSet:
    """One loaded version of the flow folder; replaced as a whole on reload, never mutated.

    A record read after a reload sees the new set; one in hand keeps the set it started with.
    """

    flows: Mapping[str, Flow]
    signature: str = ""
    _by_topic: dict[str, tuple[Flow, ...]] = field(init=False, repr=False)
    _targets: dict[str, str] = field(init=False, repr=False)
    _reads: dict[str, frozenset[str] | None] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_topic: dict[str, list[Flow]] = {}
        for flow in sorted(self.flows.values(), key=lambda f: f.id):
            if flow.enabled:
                by_topic.setdefault(flow.trigger.topic, []).append(flow)
        object.__setattr__(self, "_by_topic", {t: tuple(f) for t, f in by_topic.items()})
        # Asked once per command encoded: built once per flow set, not per record.
        targets = {f.target.topic: f.target.command_type for fs in by_topic.values() for f in fs}
        object.__setattr__(self, "_targets", targets)
        reads = {topic: _union(flows) for topic, flows in by_topic.items()}
        object.__setattr__(self, "_reads", reads)

    @property
    def source_topics(self) -> list[str]:
        """Every topic some enabled flow triggers on, sorted."""
        return sorted(self._by_topic)

    @property
    def target_topics(self) -> dict[str, str]:
        """``{command topic: command schema}`` of every enabled flow (do not modify)."""
        return self._targets

    def reads_of(self, topic: str) -> frozenset[str] | None:
        """The event paths the flows of ``topic`` and the handler read; None: all of them.

        The handler reads the envelope (event type, changed fields, ids) of every record.
        """
        return self._reads.get(topic)

    def versions(self) -> dict[str, int]:
        """``{flow id: version}`` of the enabled flows."""
        return {f.id: f.version for flows in self._by_topic.values() for f in flows}

    def dispatch(
        self, *, topic: str, event: Mapping[str, Any], ignore_origins: Iterable[str] = ()
    ) -> Dispatch:
        """The flows of ``topic`` whose trigger matches ``event`` (echoes of our writes excluded).

        Raises:
            MappingError: a flow's trigger condition cannot be evaluated on this record.
        """
        event_type = event_type_of(event)
        origins = tuple(ignore_origins)
        chosen = tuple(
            flow
            for flow in self._by_topic.get(topic, ())
            if flow.matches(event_type, event, ignore_origins=origins)
        )
        return Dispatch(flows=chosen, event_type=event_type)


HANDLER_READS = frozenset({"envelope"})


def _union(flows: Iterable[Flow]) -> frozenset[str] | None:
    """What all ``flows`` read, with the envelope; None when one of them reads everything."""
    paths = set(HANDLER_READS)
    for flow in flows:
        if flow.reads is None:
            return None
        paths |= flow.reads
    return frozenset(paths)
