"""Table metadata: columns, lookups, collection navigation properties and alternate keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Kind(StrEnum):
    """Dataverse column types the sandbox models."""

    GUID = "Edm.Guid"
    STRING = "Edm.String"
    INT = "Edm.Int32"
    DECIMAL = "Edm.Decimal"
    MONEY = "Money"
    BOOL = "Edm.Boolean"
    CHOICE = "Choice"
    DATETIME = "Edm.DateTimeOffset"
    DATE = "Edm.Date"


@dataclass(frozen=True)
class Column:
    """One column; ``create``/``update`` mirror IsValidForCreate/IsValidForUpdate."""

    name: str
    kind: Kind
    max_length: int | None = None
    create: bool = True
    update: bool = True
    required: bool = False
    options: Mapping[int, str] | None = None


@dataclass(frozen=True)
class Lookup:
    """A many-to-one lookup: read as ``_<name>_value``, written through its navigation props."""

    name: str
    targets: Mapping[str, str]
    create: bool = True
    update: bool = True
    required: bool = False

    @property
    def value_column(self) -> str:
        """The read-side column, e.g. ``_customerid_value``."""
        return f"_{self.name}_value"


@dataclass(frozen=True)
class Collection:
    """A one-to-many navigation property such as ``order_details``."""

    name: str
    table: str
    lookup: str


@dataclass(frozen=True)
class StateModel:
    """statecode values with their labels and the statuscodes each one allows."""

    states: Mapping[int, str]
    statuses: Mapping[int, tuple[int, str]]
    defaults: Mapping[int, int]

    def state_of(self, status: int) -> int | None:
        """The statecode a statuscode belongs to."""
        entry = self.statuses.get(status)
        return None if entry is None else entry[0]


@dataclass(frozen=True)
class Table:
    """One Dataverse table as the Web API exposes it."""

    logical: str
    entity_set: str
    key: str
    primary_name: str
    columns: Mapping[str, Column]
    lookups: Mapping[str, Lookup] = field(default_factory=dict)
    collections: Mapping[str, Collection] = field(default_factory=dict)
    alternate_keys: tuple[tuple[str, ...], ...] = ()
    states: StateModel | None = None
    autonumber: tuple[str, str] | None = None
    money: bool = False

    def nav_target(self, nav: str) -> tuple[Lookup, str] | None:
        """The lookup and target table behind a single-valued navigation property."""
        for lookup in self.lookups.values():
            if nav in lookup.targets:
                return lookup, lookup.targets[nav]
        return None

    def readable(self) -> list[str]:
        """Every column a full GET returns, in a stable order."""
        names = [self.key, *self.columns]
        names += [lookup.value_column for lookup in self.lookups.values()]
        names += [f"{c.name}_base" for c in self.columns.values() if c.kind is Kind.MONEY]
        return names

    def is_readable(self, name: str) -> bool:
        """True when ``name`` can appear in ``$select``, ``$filter`` or ``$orderby``."""
        return name in self.readable()

    def kind_of(self, name: str) -> Kind | None:
        """The type of a readable column (lookup values are GUIDs)."""
        if name == self.key or (name.startswith("_") and name.endswith("_value")):
            return Kind.GUID
        if name.endswith("_base") and name[:-5] in self.columns:
            return Kind.MONEY
        column = self.columns.get(name)
        return None if column is None else column.kind


class Catalogue:
    """All tables, addressable by logical name or entity set name."""

    def __init__(self, tables: list[Table]) -> None:
        self.by_logical = {t.logical: t for t in tables}
        self.by_set = {t.entity_set: t for t in tables}

    def table(self, logical: str) -> Table:
        """The table with this logical name (KeyError if unknown)."""
        return self.by_logical[logical]
