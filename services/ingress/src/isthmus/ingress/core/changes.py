"""Changed fields of thin S/4 events: the read record diffed against its last known state.

S/4 business events carry only a key; the ingress reads the record and so does not learn what
changed. For master-data topics (those with a compacted state topic,
``state.<system>.<entity>`` beside ``<system>.<entity>.events``) it keeps the last known fields
of every key, flattened to paths (``OrganizationBPName1``,
``to_BusinessPartnerAddress[0].PhoneNumber``) in the state topics' string form. The sinks'
WRITE states (what they wrote) and the ingress's own EVENT states (what it read) both update
it, newest ``observedAt`` first; a state older than what is known for a key is skipped, since the
record read since then already showed it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from isthmus.ingress.core.echo import fingerprint, normalise
from isthmus.kafka.catalogue import Catalogue, TopicName


def flatten(value: Any, prefix: str = "") -> dict[str, str | None]:
    """Leaf paths of a record: nested records joined by ``.``, list items as ``[i]``."""
    if isinstance(value, Mapping):
        flat: dict[str, str | None] = {}
        for name, item in value.items():
            flat.update(flatten(item, f"{prefix}.{name}" if prefix else str(name)))
        return flat
    if isinstance(value, list):
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]"))
        return flat
    return {prefix: normalise(value)}


@dataclass
class _Known:
    fields: dict[str, str | None]
    observed_at: dt.datetime


@dataclass(frozen=True)
class Observation:
    """What reading one record showed: its changed paths (None: nothing known before)."""

    fields: dict[str, str | None]
    changed: list[str] | None
    observed_at: dt.datetime

    @property
    def unchanged(self) -> bool:
        """True when the record was known and no field differs: nothing happened to it."""
        return self.changed is not None and not self.changed


@dataclass
class KnownStates:
    """Last known fields per (system, key) of the tracked state topics."""

    state_topics: frozenset[str] = frozenset()
    topics: Catalogue | None = None
    _known: dict[tuple[str, str], _Known] = field(default_factory=dict)

    @classmethod
    def for_topics(cls, topics: Iterable[str], *, catalogue: Catalogue) -> KnownStates:
        """Track the given state topics (``catalogue`` tells which event topic feeds which)."""
        return cls(state_topics=frozenset(topics), topics=catalogue)

    def tracks(self, event_topic: str) -> bool:
        """True when ``event_topic`` has a state topic this ingress reads."""
        return self.state_of(event_topic) is not None

    def state_of(self, event_topic: str) -> str | None:
        """The tracked state topic of ``event_topic`` (None when it has none)."""
        if self.topics is None or not self.state_topics:
            return None
        state = self.topics.state_topic(event_topic)
        return state if state in self.state_topics else None

    def apply(
        self,
        *,
        system: str,
        key: str,
        fields: Mapping[str, str | None],
        observed_at: dt.datetime,
    ) -> None:
        """Merge a state into what is known, unless something newer is known already."""
        known = self._known.get((system, key))
        if known is None:
            self._known[(system, key)] = _Known(dict(fields), observed_at)
        elif observed_at >= known.observed_at:
            known.fields.update(fields)
            known.observed_at = observed_at

    def forget(self, *, system: str, key: str) -> None:
        """The record was deleted."""
        self._known.pop((system, key), None)

    def observe(
        self, *, system: str, key: str, record: Mapping[str, Any], now: dt.datetime
    ) -> Observation:
        """Diff a freshly read record against the known state, then remember it."""
        fields = flatten(record)
        known = self._known.get((system, key))
        changed = None
        if known is not None:
            changed = [path for path, text in fields.items() if known.fields.get(path) != text]
        self.apply(system=system, key=key, fields=fields, observed_at=now)
        return Observation(fields, changed, now)

    def observe_event(
        self, *, topic: str, key: str, record: Mapping[str, Any], now: dt.datetime
    ) -> Observation | None:
        """``observe`` for an event of a tracked topic (None for other topics)."""
        if self.topics is None or not self.tracks(topic):
            return None
        system = str(self.topics.meaning(topic).system).upper()
        return self.observe(system=system, key=key, record=record, now=now)


def event_state(
    *, topic: TopicName, key: str, observation: Observation, version: str | None
) -> dict[str, Any]:
    """The ``EntityState`` (source EVENT) of a record the ingress read from ``topic``'s system."""
    return {
        "system": str(topic.system).upper(),
        "entity": topic.entity,
        "key": key,
        "fields": observation.fields,
        "fingerprint": fingerprint(observation.fields),
        "version": version,
        "source": "EVENT",
        "observedAt": observation.observed_at,
        "deleted": False,
    }
