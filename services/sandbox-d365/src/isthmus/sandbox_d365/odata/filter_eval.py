"""Compile a ``$filter`` AST against a table into a row predicate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from isthmus.sandbox_d365.business.store import Row
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.schema import Kind, Table
from isthmus.sandbox_kit.odata_date import parse_iso
from isthmus.sandbox_kit.odata_filter import MIRRORED, V4, apply_function, compare
from isthmus.sandbox_kit.odata_filter.syntax import Call, Compare, Literal, Logical, Node, Not, Prop

Predicate = Callable[[Row], bool]
Getter = Callable[[Row], Any]
# Resolves a lookup hop: (table, lookup attribute, row) -> related row or None.
Resolver = Callable[[Table, str, Row], tuple[Table, Row] | None]

_NUMERIC = (Kind.INT, Kind.DECIMAL, Kind.MONEY, Kind.CHOICE)
_EDM = {Kind.MONEY: "Edm.Decimal", Kind.CHOICE: "Edm.Int32"}


class FilterCompiler:
    """Turns an AST into a predicate, checking names and types against the table."""

    def __init__(self, *, table: Table, resolver: Resolver) -> None:
        self._table = table
        self._resolve = resolver

    def compile(self, node: Node) -> Predicate:
        """A predicate for a boolean expression.

        Raises:
            QueryError: unknown column, incompatible types or unsupported function.
        """
        if isinstance(node, Logical):
            left, right = self.compile(node.left), self.compile(node.right)
            if node.op == "and":
                return lambda row: left(row) and right(row)
            return lambda row: left(row) or right(row)
        if isinstance(node, Not):
            inner = self.compile(node.operand)
            return lambda row: not inner(row)
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Prop) and self._kind(node) is Kind.BOOL:
            getter = self._getter(node)
            return lambda row: getter(row) is True
        raise QueryError("The $filter expression must evaluate to a boolean value.")

    def _compare(self, node: Compare) -> Predicate:
        op, left, right = node.op, node.left, node.right
        if isinstance(left, Literal) and isinstance(right, Prop):
            left, right, op = right, left, MIRRORED[op]
        get_left = self._operand(left)
        if isinstance(left, Prop) and isinstance(right, Literal):
            self._check_types(left, right, node.op)
        get_right = self._operand(right)

        def predicate(row: Row) -> bool:
            try:
                return compare(op, V4.normalise(get_left(row)), V4.normalise(get_right(row)))
            except TypeError:
                return False

        return predicate

    def _check_types(self, prop: Prop, literal: Literal, op: str) -> None:
        kind = self._kind(prop)
        if literal.kind == "null" or kind is None:
            return
        text_kinds = (Kind.STRING,)
        if (kind in text_kinds and literal.kind == "number") or (
            kind in _NUMERIC and literal.kind == "string"
        ):
            found = "Edm.Int32" if literal.kind == "number" else "Edm.String"
            raise QueryError(
                "A binary operator with incompatible types was detected. Found operand types "
                f"'{_EDM.get(kind, kind.value)}' and '{found}' for operator kind '{op}'."
            )

    def _call(self, node: Call) -> Predicate:
        name = node.name.removeprefix("Microsoft.Dynamics.CRM.")
        if len(node.args) == V4.functions.get(node.name):
            function = node.name
            column, text = self._operand(node.args[0]), self._operand(node.args[1])

            def text_predicate(row: Row) -> bool:
                value, part = column(row), text(row)
                if not isinstance(value, str) or not isinstance(part, str):
                    return False
                return bool(apply_function(function, [V4.normalise(value), V4.normalise(part)]))

            return text_predicate
        if name in ("In", "NotIn", "Null", "NotNull"):
            return self._crm_function(name, dict(node.named))
        raise QueryError(f"The function '{node.name}' is not supported in $filter.")

    def _crm_function(self, name: str, named: dict[str, Node]) -> Predicate:
        column = named.get("PropertyName")
        if not isinstance(column, Literal) or not isinstance(column.value, str):
            raise QueryError(f"Microsoft.Dynamics.CRM.{name} needs PropertyName.")
        getter = self._getter(Prop((column.value,)))
        if name in ("Null", "NotNull"):
            return lambda row: (getter(row) is None) == (name == "Null")
        values = named.get("PropertyValues")
        if not isinstance(values, Literal) or not isinstance(values.value, list):
            raise QueryError(f"Microsoft.Dynamics.CRM.{name} needs PropertyValues.")
        wanted = {V4.normalise(str(v)) for v in values.value}
        inside = name == "In"
        return lambda row: (V4.normalise(str(getter(row))) in wanted) == inside

    def _operand(self, node: Node) -> Getter:
        if isinstance(node, Literal):
            value = node.value
            if node.kind == "datetime":
                value = _iso(value)
            elif node.kind == "date":
                value = _date(value)
            return lambda row: value
        if isinstance(node, Prop):
            return self._getter(node)
        raise QueryError("Only columns and literals can be compared in $filter.")

    def _kind(self, prop: Prop) -> Kind | None:
        table = self._table
        for hop in prop.path[:-1]:
            target = table.nav_target(hop)
            if target is None:
                raise _unknown(table, hop)
        return None if len(prop.path) > 1 else table.kind_of(prop.path[-1])

    def _getter(self, prop: Prop) -> Getter:
        table = self._table
        if len(prop.path) == 1:
            name = prop.path[0]
            if not table.is_readable(name):
                raise _unknown(table, name)
            return lambda row: row.get(name)
        return self._path_getter(prop)

    def _path_getter(self, prop: Prop) -> Getter:
        hop, column = prop.path[0], prop.path[1]
        target = self._table.nav_target(hop)
        if target is None or len(prop.path) > 2:  # noqa: PLR2004 - one lookup hop
            raise _unknown(self._table, hop)
        lookup, _ = target
        table, resolve = self._table, self._resolve

        def getter(row: Row) -> Any:
            related = resolve(table, lookup.name, row)
            return None if related is None else related[1].get(column)

        return getter


def _iso(value: str) -> str:
    """Normalise an OData datetime literal to the UTC ``YYYY-MM-DDTHH:MM:SSZ`` form rows use.

    Raises:
        QueryError: not a valid date and time.
    """
    try:
        moment = parse_iso(value)
    except ValueError as exc:
        raise QueryError(f"The DateTimeOffset literal '{value}' is not valid.") from exc
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise QueryError(f"The Date literal '{value}' is not valid.") from exc


def _unknown(table: Table, name: str) -> QueryError:
    return QueryError(
        f"Could not find a property named '{name}' on type "
        f"'Microsoft.Dynamics.CRM.{table.logical}'."
    )
