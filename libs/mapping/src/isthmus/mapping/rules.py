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

# A check returns None when the value is fine, else the message. Checks judge present values only
# (not null, '' or []); an absent value breaks nothing but `required`.
Check = Callable[[Any], str | None]


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The named rules on one target path such as `SoldToParty` or `to_Item[*].Material`."""

    path: str
    resolver: Resolver
    checks: tuple[tuple[str, Check], ...]
    declared: Mapping[str, Any] = field(default_factory=dict)
    required: bool = False


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


def present(value: Any) -> bool:
    """False for null, '' and [] (the values `required` refuses and other rules skip)."""
    return value is not None and value not in ("", [])


def _text(value: Any) -> str:
    return value if type(value) is str else (to_string(value) or "")


def _decimal(value: Any) -> Decimal | None:
    kind = type(value)
    if kind is Decimal and value.is_finite():
        return value  # type: ignore[no-any-return]  # the exact type test narrows it
    if kind is int:
        return Decimal(value)
    try:
        return Decimal(to_string(value) or "")
    except (InvalidOperation, MappingError, ValueError):
        return None


def max_length(limit: int) -> Check:
    """Text no longer than `limit` characters (SAP metadata MaxLength)."""
    message = f"is longer than {limit} characters"
    return lambda v: message if len(v if type(v) is str else _text(v)) > limit else None


def min_length(limit: int) -> Check:
    """Text at least `limit` characters long."""
    message = f"is shorter than {limit} characters"
    return lambda v: message if len(v if type(v) is str else _text(v)) < limit else None


def pattern(regex: str) -> Check:
    """Text matching a regular expression completely (compiled once, when the flow loads)."""
    fullmatch = re.compile(regex).fullmatch
    message = f"does not match {regex}"
    return lambda v: None if fullmatch(_text(v)) else message


def _bound(limit: Any, *, lower: bool) -> Check:
    edge = Decimal(str(limit))
    message = f"is below the minimum {edge}" if lower else f"is above the maximum {edge}"

    def check(value: Any) -> str | None:
        amount = _decimal(value)
        if amount is None:
            return "is not a number"
        return message if (amount < edge if lower else amount > edge) else None

    return check


def one_of(values: list[Any]) -> Check:
    """Membership in a code list."""
    allowed = {to_string(value) for value in values}
    message = "is not one of " + ", ".join(sorted(str(value) for value in allowed))
    return lambda v: None if _text(v) in allowed else message


def in_values(table: str, values: frozenset[str]) -> Check:
    """Membership in the target side of a static table (e.g. SAP units of measure)."""
    message = f"is not a code of table {table}"
    return lambda v: None if _text(v) in values else message


# `required` is no check: it is FieldRule.required, the one rule an absent value can break.
RULES: Mapping[str, Callable[[Any], Check]] = {
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
    return field_violations(target, rules=rules, skip=skip) + record_violations(checks, scope=scope)


def field_violations(
    target: dict[str, Any], *, rules: tuple[FieldRule, ...], skip: frozenset[str]
) -> list[Violation]:
    """The field rules walked one by one (`validation.RuleSet` does the same in one walk).

    Raises:
        ConversionError: a rule needs the text of a value that has none (e.g. a list).
    """
    violations: list[Violation] = []
    for rule in rules:
        found: list[tuple[str, Any]] = []
        rule.resolver(target, "", found)
        for path, value in found:
            if path in skip:
                continue
            if not present(value):
                if rule.required:
                    violations.append(Violation(path, "required", value, f"{path} is required"))
                continue
            for name, check in rule.checks:
                message = check(value)
                if message is not None:
                    violations.append(Violation(path, name, value, f"{path} {message}"))
    return violations


def record_violations(checks: tuple[RecordCheck, ...], *, scope: Scope) -> list[Violation]:
    """Every free rule over the whole target that does not hold (or cannot be evaluated)."""
    violations: list[Violation] = []
    for check in checks:
        try:
            held = check.condition(scope)
            if held is True or truth(held, where="check"):
                continue
        except MappingError as exc:
            violations.append(Violation(check.field, "check", None, f"{check.message} ({exc})"))
            continue
        violations.append(Violation(check.field, "check", None, check.message))
    return violations
