"""Rows → Web API JSON: selected columns, ETags, ``_x_value`` lookups, annotations, ``$expand``."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from isthmus.sandbox_d365.business.rows import etag_of
from isthmus.sandbox_d365.business.store import Row, Store
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.query import Query
from isthmus.sandbox_d365.odata.schema import Catalogue, Kind, Table
from isthmus.sandbox_d365.odata.selection import select_rows

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAV_NAME = "Microsoft.Dynamics.CRM.associatednavigationproperty"


class Annotations:
    """Which instance annotations ``Prefer: odata.include-annotations`` asked for."""

    def __init__(self, spec: str | None) -> None:
        self.patterns = [p.strip().strip('"') for p in (spec or "").split(",") if p.strip()]

    def wants(self, name: str) -> bool:
        """True when the annotation ``name`` should be emitted."""
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)


_FORMATS: dict[Kind, Callable[[Any], str]] = {
    Kind.MONEY: lambda v: f"${v:,.2f}",
    Kind.BOOL: lambda v: "Yes" if v else "No",
    Kind.INT: lambda v: f"{v:,}",
    Kind.DECIMAL: lambda v: f"{v:,}",
    Kind.DATETIME: lambda v: f"{int(v[5:7])}/{int(v[8:10])}/{v[:4]} {v[11:16]}",
    Kind.DATE: lambda v: f"{int(v[5:7])}/{int(v[8:10])}/{v[:4]}",
}


def _formatted(kind: Kind, value: Any, options: Any) -> str | None:
    """The FormattedValue annotation text, in the en-US format of a default org."""
    if kind is Kind.CHOICE:
        return str(options.get(value, value)) if options else None
    formatter = _FORMATS.get(kind)
    return None if formatter is None else formatter(value)


class Serializer:
    """Builds entity JSON for one request (``base`` is ``https://host/api/data/v9.2``)."""

    def __init__(self, *, catalogue: Catalogue, store: Store, base: str, annotations: Annotations):
        self.catalogue = catalogue
        self.store = store
        self.base = base
        self.annotations = annotations

    def context(self, table: Table, query: Query, *, entity: bool) -> str:
        """The ``@odata.context`` URL."""
        select = f"({','.join(query.select)})" if query.select else ""
        return f"{self.base}/$metadata#{table.entity_set}{select}" + ("/$entity" if entity else "")

    def entity(self, table: Table, row: Row, query: Query) -> dict[str, Any]:
        """One row with the columns ``$select`` asked for (all readable ones by default)."""
        names = list(query.select) if query.select else table.readable()
        if query.select and table.money and any(table.kind_of(n) is Kind.MONEY for n in names):
            # Dataverse adds the currency lookup whenever a money column is selected.
            names.append("_transactioncurrencyid_value")
        out: dict[str, Any] = {"@odata.etag": etag_of(row)}
        for name in names:
            if not table.is_readable(name):
                if table.nav_target(name) or name in table.collections:
                    continue
                raise QueryError(
                    f"Could not find a property named '{name}' on type "
                    f"'Microsoft.Dynamics.CRM.{table.logical}'."
                )
            self._column(out, table, row, name)
        if table.key not in out:
            out[table.key] = row[table.key]
        for nav, sub in query.expand.items():
            out[nav] = self._expand(table, row, nav, sub)
        return out

    def _column(self, out: dict[str, Any], table: Table, row: Row, name: str) -> None:
        value = self._value(table, row, name)
        if value is not None and self.annotations.patterns:
            self._annotate(out, table, row, name, value)
        out[name] = value

    def _value(self, table: Table, row: Row, name: str) -> Any:
        if name.endswith("_base") and name[:-5] in table.columns:
            amount, rate = row.get(name[:-5]), row.get("exchangerate") or 1.0
            return None if amount is None else round(float(amount) / float(rate), 4)
        return row.get(name)

    def _annotate(self, out: dict[str, Any], table: Table, row: Row, name: str, value: Any) -> None:
        if name.startswith("_") and name.endswith("_value"):
            lookup = table.lookups.get(name[1:-6])
            logical = row.get(f"~{name[1:-6]}") or (
                next(iter(lookup.targets.values()), None) if lookup else None
            )
            if logical in self.catalogue.by_logical:
                target_table = self.catalogue.table(logical)
                target = self.store.peek(logical, value) or {}
                self._put(out, name, FORMATTED, target.get(target_table.primary_name))
                nav = next(
                    (n for n, t in (lookup.targets.items() if lookup else ()) if t == logical), None
                )
                self._put(out, name, NAV_NAME, nav)
                self._put(out, name, LOOKUP_NAME, logical)
            return
        column = table.columns.get(name.removesuffix("_base"))
        kind = table.kind_of(name)
        if kind is not None:
            self._put(
                out, name, FORMATTED, _formatted(kind, value, column.options if column else None)
            )

    def _put(self, out: dict[str, Any], name: str, annotation: str, value: Any) -> None:
        if value is not None and self.annotations.wants(annotation):
            out[f"{name}@{annotation}"] = value

    def _expand(self, table: Table, row: Row, nav: str, sub: Query) -> Any:
        target = table.nav_target(nav)
        if target is not None:
            lookup, logical = target
            related_id = row.get(lookup.value_column)
            if not related_id or row.get(f"~{lookup.name}", logical) != logical:
                return None
            related = self.store.peek(logical, related_id)
            return (
                None
                if related is None
                else self.entity(self.catalogue.table(logical), related, sub)
            )
        collection = table.collections.get(nav)
        if collection is None:
            raise QueryError(
                f"Could not find a property named '{nav}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical}'."
            )
        child_table = self.catalogue.table(collection.table)
        column = f"_{collection.lookup}_value"
        rows = self.store.related(child_table.logical, column, row[table.key])
        rows = select_rows(
            rows, table=child_table, query=sub, store=self.store, catalogue=self.catalogue
        )
        if sub.top is not None:
            rows = rows[: sub.top]
        return [self.entity(child_table, r, sub) for r in rows]
