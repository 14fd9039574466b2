"""Lookups: static code tables shipped with the flows, and the dynamic id port of the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from isthmus.mapping.errors import FlowDefinitionError


class LookupPort(Protocol):
    """Dynamic cross references (the `xref.ids` table), supplied by the caller of `Flow.apply`.

    Both methods answer None when no reference is known; the engine then reports a
    LookupMissError (or uses the flow's declared default) and never invents an id.
    """

    def s4_id(self, *, entity: str, d365_id: str) -> str | None:
        """The S/4HANA id cross-referenced to a Dataverse id of `entity`."""
        ...

    def d365_id(self, *, entity: str, s4_id: str) -> str | None:
        """The Dataverse id cross-referenced to an S/4HANA id of `entity`."""
        ...


@dataclass(frozen=True, slots=True)
class InMemoryLookups:
    """A LookupPort over a dict `{entity: {d365_id: s4_id}}` (previews, tests, replays)."""

    pairs: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def s4_id(self, *, entity: str, d365_id: str) -> str | None:
        """The S/4 id for a Dataverse id, or None."""
        return self.pairs.get(entity, {}).get(d365_id)

    def d365_id(self, *, entity: str, s4_id: str) -> str | None:
        """The Dataverse id for an S/4 id, or None."""
        for d365, s4 in self.pairs.get(entity, {}).items():
            if s4 == s4_id:
                return d365
        return None


@dataclass(frozen=True, slots=True)
class StaticTable:
    """A two-column code table (e.g. unit of measure `d365` -> `s4`), readable both ways."""

    name: str
    columns: tuple[str, str]
    forward: Mapping[str, str]
    source: str = "<table>"
    description: str = ""
    reverse: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        reverse: dict[str, str] = {}
        for key, value in self.forward.items():
            reverse.setdefault(value, key)
        object.__setattr__(self, "reverse", reverse)

    def check_reversible(self) -> None:
        """Make sure every value appears once, so a reverse lookup is unambiguous.

        Raises:
            FlowDefinitionError: naming a value that two keys share.
        """
        if len(self.reverse) == len(self.forward):
            return
        seen: set[str] = set()
        for value in self.forward.values():
            if value in seen:
                raise FlowDefinitionError(
                    f"table {self.name!r} maps several keys to {value!r}; "
                    "lookup_reverse needs unique values",
                    source=self.source,
                )
            seen.add(value)


def table_from_rows(
    *,
    name: str,
    columns: tuple[str, str],
    rows: Mapping[str, str],
    source: str,
    description: str = "",
) -> StaticTable:
    """Build a table, refusing empty keys.

    Raises:
        FlowDefinitionError: for an empty key or value.
    """
    for key, value in rows.items():
        if key == "" or value == "":
            raise FlowDefinitionError(
                f"table {name!r} has an empty cell near {key!r}", source=source
            )
    return StaticTable(name, columns, dict(rows), source, description)
