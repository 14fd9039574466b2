"""Dataverse write rules: state transitions, defaults, required columns, unique keys, locks."""

from __future__ import annotations

from typing import Any

from isthmus.sandbox_d365.business import computed
from isthmus.sandbox_d365.business.store import Row, Store
from isthmus.sandbox_d365.errors import (
    DUPLICATE_KEY,
    INVALID_ARGUMENT,
    DataverseError,
    PreconditionError,
)
from isthmus.sandbox_d365.odata.schema import Table


def apply_state(table: Table, row: Row, values: dict[str, Any], *, creating: bool) -> None:
    model = table.states
    state, status = values.pop("statecode", None), values.pop("statuscode", None)
    if model is None:
        return
    if creating:
        row["statecode"], row["statuscode"] = 0, model.defaults.get(0)
    if state is None and status is None:
        return
    if status is not None and model.state_of(status) is None:
        raise bad_status(table, row, status, state)
    if status is None:
        status = model.defaults.get(state)
    target_state = model.state_of(status) if state is None else state
    if target_state not in model.states or model.state_of(status) != target_state:
        raise bad_status(table, row, status, target_state)
    if creating and target_state != 0:
        raise bad_status(table, row, status, target_state)
    row["statecode"], row["statuscode"] = target_state, status


def default_currency(store: Store, table: Table, row: Row) -> None:
    if not table.money or row.get("_transactioncurrencyid_value"):
        return
    parent_logical = computed.LINE_PARENTS.get(table.logical)
    if parent_logical is not None:
        parent = store.peek(parent_logical, row.get(f"_{parent_logical}id_value") or "")
        currency = None if parent is None else parent.get("_transactioncurrencyid_value")
    else:
        currency = next(
            (
                c["transactioncurrencyid"]
                for c in store.all("transactioncurrency")
                if c.get("exchangerate") == 1.0
            ),
            None,
        )
    row["_transactioncurrencyid_value"] = currency
    row["~transactioncurrencyid"] = "transactioncurrency" if currency else None


def check_required(table: Table, row: Row) -> None:
    missing = [c.name for c in table.columns.values() if c.required and row.get(c.name) is None]
    missing += [
        lk.name for lk in table.lookups.values() if lk.required and not row.get(lk.value_column)
    ]
    if missing:
        raise DataverseError(
            status=400,
            code="0x80040200",
            message=f"Required field '{missing[0]}' is missing for the '{table.logical}' entity.",
        )


def guard_closed_parent(store: Store, table: Table, row: Row) -> None:
    parent_logical = computed.LINE_PARENTS.get(table.logical)
    if parent_logical is None:
        return
    parent = store.peek(parent_logical, row.get(f"_{parent_logical}id_value") or "")
    if parent is not None and parent.get("statecode") not in (0, None):
        raise DataverseError(
            status=400,
            code=INVALID_ARGUMENT,
            message=f"The {parent_logical} is not active; its lines cannot be changed.",
        )


def check_unique_keys(store: Store, table: Table, row: Row) -> None:
    for columns in table.alternate_keys:
        values = tuple(row.get(c) for c in columns)
        if any(v is None for v in values):
            continue
        owner = store.find_key(table.logical, columns, values)
        if owner is not None and owner != row[table.key]:
            raise PreconditionError(
                f"A record that has the attribute values {', '.join(map(str, values))} "
                "already exists. The entity key requires that this set of attributes "
                "contains unique values. Select unique values and try again.",
                code=DUPLICATE_KEY,
            )


def bad_status(table: Table, row: Row, status: Any, state: Any) -> DataverseError:
    model = table.states
    if state is None:
        state = row.get("statecode") or 0
    label = model.states.get(state, state) if model is not None else state
    return DataverseError(
        status=400,
        code=INVALID_ARGUMENT,
        message=f"{status} is not a valid status code for state code "
        f"{table.logical.capitalize()}State.{label} on {table.logical} with Id "
        f"{row.get(table.key)}.",
    )
