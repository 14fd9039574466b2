"""Validation rules on the mapped target: required, length, pattern, range, code lists, checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.mapping.errors import MappingError
from isthmus.mapping.expressions.operators import truth
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.result import Violation

# A check returns None when the value is fine, else the message.
Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The named rules on one target path such as `SoldToParty` or `to_Item[*].Material`."""

    path: str
    resolver: Resolver
    checks: tuple[tuple[str, Check], ...]
    declared: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """A free rule over the whole target (`count(to_Item) > 0`), reported on `field`."""

    field: str
    expression: str
    condition: Evaluator
    message: str


def parse_path(path: str) -> tuple[tuple[str, bool], ...]:
    """`to_Item[*].Material` -> (('to_Item', True), ('Material', False))."""
    segments = []
    for part in path.split("."):
        each = part.endswith("[*]")
        segments.append((part[:-3] if each else part, each))
    return tuple(segments)


Resolver = Callable[[Any, str, list[tuple[str, Any]]], None]


def compile_path(segments: tuple[tuple[str, bool], ...]) -> Resolver:
    """A function adding every concrete (path, value) a rule path reaches; missing gives None."""
    if not segments:
        return lambda value, path, out: out.append((path, value))
    (name, each), rest = segments[0], compile_path(segments[1:])
    if not each:

        def step(value: Any, path: str, out: list[tuple[str, Any]]) -> None:
            child = value.get(name) if isinstance(value, dict) else None
            rest(child, f"{path}.{name}" if path else name, out)

        return step

    def spread(value: Any, path: str, out: list[tuple[str, Any]]) -> None:
        items = value.get(name) if isinstance(value, dict) else None
        if isinstance(items, list):
            here = f"{path}.{name}" if path else name
            for index, item in enumerate(items):
                rest(item, f"{here}[{index}]", out)

    return spread


def resolve(target: Any, segments: tuple[tuple[str, bool], ...]) -> list[tuple[str, Any]]:
    """Every concrete (path, value) a rule path reaches in a target record."""
    found: list[tuple[str, Any]] = []
    compile_path(segments)(target, "", found)
    return found


def _present(value: Any) -> bool:
    return value is not None and value not in ("", [])


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(to_string(value) or "")
    except (InvalidOperation, MappingError, ValueError):
        return None


def required(_: Any) -> Check:
    """The field must have a non-empty value."""
    return lambda value: None if _present(value) else "is required"


def max_length(limit: int) -> Check:
    """Text no longer than `limit` characters (SAP metadata MaxLength)."""
    return lambda v: (
        f"is longer than {limit} characters"
        if _present(v) and len(to_string(v) or "") > limit
        else None
    )


def min_length(limit: int) -> Check:
    """Text at least `limit` characters long."""
    return lambda v: (
        f"is shorter than {limit} characters"
        if _present(v) and len(to_string(v) or "") < limit
        else None
    )


def pattern(regex: str) -> Check:
    """Text matching a regular expression completely (compiled once, when the flow loads)."""
    compiled = re.compile(regex)
    return lambda v: (
        f"does not match {regex}"
        if _present(v) and not compiled.fullmatch(to_string(v) or "")
        else None
    )


def _bound(limit: Any, *, lower: bool) -> Check:
    edge = Decimal(str(limit))

    def check(value: Any) -> str | None:
        if not _present(value):
            return None
        amount = _decimal(value)
        if amount is None:
            return "is not a number"
        if lower and amount < edge:
            return f"is below the minimum {edge}"
        if not lower and amount > edge:
            return f"is above the maximum {edge}"
        return None

    return check


def one_of(values: list[Any]) -> Check:
    """Membership in a code list."""
    allowed = {to_string(value) for value in values}
    shown = ", ".join(sorted(str(value) for value in allowed))
    return lambda v: (
        f"is not one of {shown}" if _present(v) and to_string(v) not in allowed else None
    )


def in_values(table: str, values: frozenset[str]) -> Check:
    """Membership in the target side of a static table (e.g. SAP units of measure)."""
    return lambda v: (
        f"is not a code of table {table}" if _present(v) and to_string(v) not in values else None
    )


RULES: Mapping[str, Callable[[Any], Check]] = {
    "required": required,
    "max_length": max_length,
    "min_length": min_length,
    "pattern": pattern,
    "min": lambda limit: _bound(limit, lower=True),
    "max": lambda limit: _bound(limit, lower=False),
    "one_of": one_of,
}


def evaluate(
    target: dict[str, Any],
    *,
    rules: tuple[FieldRule, ...],
    checks: tuple[RecordCheck, ...],
    scope: Scope,
    skip: frozenset[str],
) -> list[Violation]:
    """Every violated rule; fields that already failed to map (`skip`) are not reported twice."""
    violations: list[Violation] = []
    for rule in rules:
        found: list[tuple[str, Any]] = []
        rule.resolver(target, "", found)
        for path, value in found:
            if path in skip:
                continue
            for name, check in rule.checks:
                message = check(value)
                if message is not None:
                    violations.append(Violation(path, name, value, f"{path} {message}"))
    for record_check in checks:
        violations.extend(_record_check(record_check, scope))
    return violations


def _record_check(check: RecordCheck, scope: Scope) -> list[Violation]:
    try:
        held = truth(check.condition(scope), where="check")
    except MappingError as exc:
        return [Violation(check.field, "check", None, f"{check.message} ({exc})")]
    return [] if held else [Violation(check.field, "check", None, check.message)]
