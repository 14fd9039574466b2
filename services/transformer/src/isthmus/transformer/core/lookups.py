"""A LookupPort wrapper that remembers which cross references were asked for and missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from isthmus.mapping import LookupPort, Violation

LOOKUP_RULE = "lookup"


@dataclass
class RecordingLookups:
    """Answers from ``port`` and notes every miss, so a missing prerequisite is told apart.

    One instance per record: the misses belong to that record's mapping.
    """

    port: LookupPort
    misses: list[tuple[str, str, str]] = field(default_factory=list)

    def s4_id(self, *, entity: str, d365_id: str) -> str | None:
        """The S/4 id of a Dataverse id, or None (noted as a miss)."""
        found = self.port.s4_id(entity=entity, d365_id=d365_id)
        if found is None:
            self.misses.append((entity, "d365", d365_id))
        return found

    def d365_id(self, *, entity: str, s4_id: str) -> str | None:
        """The Dataverse id of an S/4 id, or None (noted as a miss)."""
        found = self.port.d365_id(entity=entity, s4_id=s4_id)
        if found is None:
            self.misses.append((entity, "s4", s4_id))
        return found

    def is_missing_prerequisite(self, violation: Violation) -> bool:
        """True when ``violation`` is a failed xref of an id this record asked for."""
        if violation.rule != LOOKUP_RULE:
            return False
        return any(str(violation.value) == key for _entity, _side, key in self.misses)

    def awaited_keys(self) -> list[str]:
        """The ``xref.ids`` keys whose arrival would answer the misses, each once."""
        keys = (
            f"{entity}:{key}" if side == "d365" else f"{entity}:s4:{key}"
            for entity, side, key in self.misses
        )
        return list(dict.fromkeys(keys))

    def describe(self) -> str:
        """The missing references in words, e.g. ``account d365 id 0000-...``."""
        return ", ".join(f"{entity} {side} id {key}" for entity, side, key in self.misses)
