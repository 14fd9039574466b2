"""Request bodies → typed column values, lookup binds and nested deep-insert records."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from isthmus.sandbox_d365.errors import INVALID_ARGUMENT, VALIDATION, DataverseError, QueryError
from isthmus.sandbox_d365.odata.refs import GUID, KeyRef, parse_reference
from isthmus.sandbox_d365.odata.schema import Catalogue, Column, Kind, Table

_IGNORED = ("@odata.type", "@odata.context", "@odata.etag", "@odata.id")


@dataclass
class Bind:
    """A lookup set through ``<nav>@odata.bind`` (``ref`` None clears it)."""

    lookup: str
    target: Table | None
    ref: KeyRef | None


@dataclass
class Payload:
    """What a create/update body asks for."""

    values: dict[str, Any] = field(default_factory=dict)
    binds: list[Bind] = field(default_factory=list)
    children: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    parents: list[tuple[str, Table, dict[str, Any]]] = field(default_factory=list)


def parse_payload(body: Any, table: Table, catalogue: Catalogue, *, creating: bool) -> Payload:
    """Check every member of ``body`` against ``table``.

    Raises:
        QueryError: not an object, unknown property, wrong JSON type, bad bind.
        DataverseError: a column that may not be written now, or a too long string.
    """
    if not isinstance(body, dict):
        raise QueryError("The request body must be a JSON object.")
    payload = Payload()
    for name, value in body.items():
        if name.startswith("@") or name in _IGNORED:
            continue
        if name.endswith("@odata.bind"):
            payload.binds.append(_bind(name.removesuffix("@odata.bind"), value, table, catalogue))
        elif "@" in name:
            continue  # instance annotations such as FormattedValue are ignored on write
        elif name in table.collections and creating:
            if not isinstance(value, list):
                raise QueryError(f"The value of '{name}' must be an array of entities.")
            payload.children.append((name, value))
        elif (target := table.nav_target(name)) is not None and isinstance(value, dict):
            payload.parents.append((target[0].name, catalogue.table(target[1]), value))
        else:
            _column(payload, table, name, value, creating=creating)
    return payload


def not_writable(table: Table, name: str, *, creating: bool) -> DataverseError:
    """The 400 for an attribute that may not be set on create (or on update)."""
    action = "create" if creating else "update"
    return DataverseError(
        status=400,
        code=INVALID_ARGUMENT,
        message=f"The '{name}' attribute of the '{table.logical}' entity is not valid for "
        f"{action}.",
    )


def _column(payload: Payload, table: Table, name: str, value: Any, *, creating: bool) -> None:
    if name == table.key:
        if not isinstance(value, str) or not GUID.match(value):
            raise QueryError(
                f"Cannot convert the literal '{value}' to the expected type 'Edm.Guid'."
            )
        payload.values[name] = value.lower()
        return
    if name.startswith("_") and name.endswith("_value") and table.is_readable(name):
        raise QueryError(
            "CRM do not support direct update of Entity Reference properties, "
            "Use Navigation properties instead."
        )
    column = table.columns.get(name)
    if column is None:
        raise QueryError(
            f"The property '{name}' does not exist on type "
            f"'Microsoft.Dynamics.CRM.{table.logical}'. "
            "Make sure to only use property names that are defined by the type."
        )
    allowed = column.create if creating else column.update
    if not allowed:
        raise not_writable(table, name, creating=creating)
    payload.values[name] = convert(column, value, table)


def convert(column: Column, value: Any, table: Table) -> Any:
    """Check and normalise one JSON value for ``column``.

    Raises:
        QueryError: the JSON type does not fit the column type.
        DataverseError: string too long or choice value out of range.
    """
    kind = column.kind
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if value is None:
        return None
    if kind is Kind.STRING and isinstance(value, str):
        _check_length(column, value, table)
        return value
    if kind in (Kind.INT, Kind.CHOICE) and is_number and isinstance(value, int):
        _check_choice(column, value, table)
        return value
    if kind in (Kind.DECIMAL, Kind.MONEY) and is_number and math.isfinite(value):
        return float(value)
    if kind is Kind.BOOL and isinstance(value, bool):
        return value
    if kind in (Kind.DATETIME, Kind.DATE) and isinstance(value, str):
        return _temporal(kind, value)
    raise QueryError(f"Cannot convert the literal '{value}' to the expected type '{kind.value}'.")


def _check_length(column: Column, value: str, table: Table) -> None:
    if column.max_length is not None and len(value) > column.max_length:
        raise DataverseError(
            status=400,
            code=VALIDATION,
            message=f"A validation error occurred.  The length of the '{column.name}' "
            f"attribute of the '{table.logical}' entity exceeded the maximum allowed length "
            f"of '{column.max_length}'.",
        )


def _check_choice(column: Column, value: int, table: Table) -> None:
    # statecode/statuscode are checked against the table's state model instead
    if column.kind is not Kind.CHOICE or not column.options:
        return
    if column.name in ("statecode", "statuscode") or value in column.options:
        return
    raise DataverseError(
        status=400,
        code="0x8004431a",
        message=f"A validation error occurred. The value {value} of '{column.name}' "
        f"on record of type '{table.logical}' is outside the valid range.",
    )


def _temporal(kind: Kind, value: str) -> str:
    try:
        if kind is Kind.DATE:
            return dt.date.fromisoformat(value[:10]).isoformat()
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise QueryError(
            f"Cannot convert the literal '{value}' to the expected type '{kind.value}'."
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bind(nav: str, value: Any, table: Table, catalogue: Catalogue) -> Bind:
    target = table.nav_target(nav)
    if target is None:
        raise QueryError(
            f"An undeclared property '{nav}' which only has property annotations in the payload "
            "but no property value was found in the payload. In OData, only declared navigation "
            "properties and declared named streams can be represented as properties without values."
        )
    lookup, target_logical = target
    if value is None:
        return Bind(lookup.name, None, None)
    if not isinstance(value, str):
        raise QueryError(f"The value of '{nav}@odata.bind' must be a URI string.")
    ref_table, ref = parse_reference(value, catalogue)
    if ref_table.logical != target_logical:
        raise QueryError(
            f"The entity set '{ref_table.entity_set}' does not match the navigation property "
            f"'{nav}', which expects '{catalogue.table(target_logical).entity_set}'."
        )
    return Bind(lookup.name, ref_table, ref)
