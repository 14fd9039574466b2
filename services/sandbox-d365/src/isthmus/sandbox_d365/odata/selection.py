"""Row selection shared by collections and ``$expand``: ``$filter`` then ``$orderby``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isthmus.sandbox_d365.business.store import Row, Store
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.filter_eval import FilterCompiler
from isthmus.sandbox_d365.odata.query import Query
from isthmus.sandbox_d365.odata.schema import Catalogue, Table


def select_rows(
    rows: list[Row], *, table: Table, query: Query, store: Store, catalogue: Catalogue
) -> list[Row]:
    """The rows matching ``$filter``, sorted by ``$orderby`` (stable, nulls first).

    Raises:
        QueryError: unknown column or invalid expression.
    """
    if query.filter is not None:

        def resolve(owner: Table, lookup: str, row: Row) -> tuple[Table, Row] | None:
            targets = owner.lookups[lookup].targets.values()
            logical = row.get(f"~{lookup}") or next(iter(targets), None)
            related_id = row.get(f"_{lookup}_value")
            if not logical or not related_id:
                return None
            related = store.peek(logical, related_id)
            return None if related is None else (catalogue.table(logical), related)

        predicate = FilterCompiler(table=table, resolver=resolve).compile(query.filter)
        rows = [r for r in rows if predicate(r)]
    for name, descending in reversed(query.orderby):
        if not table.is_readable(name):
            raise QueryError(
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical}'."
            )
        rows = sorted(rows, key=_column_key(name), reverse=descending)
    return rows


def _column_key(name: str) -> Callable[[Row], tuple[int, Any]]:
    return lambda row: _sort_key(row.get(name))


def _sort_key(value: Any) -> tuple[int, Any]:
    # nulls first, as SQL Server sorts them ascending
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)
