"""Validation rules on the mapped target: required, length, pattern, range, code lists, checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
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
    """One named rule on a target path such as `SoldToParty` or `to_Item[*].Material`."""

    path: str
    segments: tuple[tuple[str, bool], ...]
    rule: str
    check: Check


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


def resolve(
    target: Any, segments: tuple[tuple[str, bool], ...], prefix: str = ""
) -> Iterator[tuple[str, Any]]:
    """Every concrete (path, value) a rule path reaches; a missing field yields None."""
    if not segments:
        yield prefix, target
        return
    (name, each), rest = segments[0], segments[1:]
    here = f"{prefix}.{name}" if prefix else name
    value = target.get(name) if isinstance(target, dict) else None
    if not each:
        yield from resolve(value, rest, here)
        return
    for index, item in enumerate(value if isinstance(value, list) else []):
        yield from resolve(item, rest, f"{here}[{index}]")


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
        for path, value in resolve(target, rule.segments):
            if path in skip:
                continue
            message = rule.check(value)
            if message is not None:
                violations.append(Violation(path, rule.rule, value, f"{path} {message}"))
    for check in checks:
        try:
            held = truth(check.condition(scope), where="check")
        except MappingError as exc:
            violations.append(Violation(check.field, "check", None, f"{check.message} ({exc})"))
            continue
        if not held:
            violations.append(Violation(check.field, "check", None, check.message))
    return violations
