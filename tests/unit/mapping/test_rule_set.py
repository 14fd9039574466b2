"""The one-walk rule set reports exactly what the per-rule reference walk reports, in order."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isthmus.mapping.expressions.scope import Scope
from isthmus.mapping.lookups import InMemoryLookups
from isthmus.mapping.rules import (
    RULES,
    Check,
    FieldRule,
    compile_path,
    evaluate,
    in_values,
    parse_path,
)
from isthmus.mapping.validation import RuleSet

NAMES = ("a", "b", "c")
ARGUMENTS: dict[str, tuple[Any, ...]] = {
    "max_length": (0, 3, 5),
    "min_length": (0, 2),
    "pattern": ("[0-9]+",),
    "min": ("0.5",),
    "max": (10,),
    "one_of": (["A", "1", 2],),
    "in_table": ("currency",),
}
CHECKS = {name: RULES[name](arguments[0]) for name, arguments in ARGUMENTS.items() if name in RULES}
CHECKS["in_table"] = in_values("currency", frozenset({"EUR", "USD"}))


def check_of(name: str, argument: Any) -> Check:
    """The check a flow file declaring `name: argument` gets."""
    if name == "in_table":
        return CHECKS["in_table"]
    return RULES[name](argument)


segments = st.tuples(st.sampled_from(NAMES), st.booleans()).map(
    lambda pair: f"{pair[0]}[*]" if pair[1] else pair[0]
)
paths = st.lists(segments, min_size=1, max_size=2).map(".".join)
# every length from 0 to 6 (text lands on both sides of each limit), codes and near misses
texts = st.sampled_from(["", "A", "1", "12", "1A", "EUR", "1234", "AB.-5", "123456"]) | st.text(
    alphabet="0123456789AEURS.-", max_size=6
)
leaves = st.one_of(  # text half of the time: most rules are about text
    texts,
    st.one_of(
        st.none(),
        st.just(""),
        st.builds(list),
        st.integers(min_value=-20, max_value=20),
        st.decimals(min_value=-20, max_value=20, places=3),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.floats(min_value=-20, max_value=20),
    ),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner),
    max_leaves=12,
)
targets = st.dictionaries(st.sampled_from(NAMES), values, max_size=3)


# Text rules alone get a shortcut for text, so they are drawn on their own most of the time.
kinds = st.sampled_from(
    [
        ("max_length", "min_length"),
        ("max_length", "min_length", "one_of", "pattern"),
        tuple(sorted(ARGUMENTS)),
    ]
)


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[FieldRule, ...]:
    """Rules as the flow loader builds them (checks and declared agree), or without `declared`."""
    rules = []
    for path in draw(st.lists(paths, min_size=1, max_size=6, unique=True)):
        names = draw(st.lists(st.sampled_from(draw(kinds)), max_size=3, unique=True))
        declared = {name: draw(st.sampled_from(ARGUMENTS[name])) for name in names}
        checks = tuple((name, check_of(name, argument)) for name, argument in declared.items())
        required = draw(st.booleans())
        if required:
            declared["required"] = True
        if draw(st.integers(0, 3)) == 0:  # a rule built by hand, without its flow text
            declared = {}
        rules.append(FieldRule(path, compile_path(parse_path(path)), checks, declared, required))
    return tuple(rules)


def reaching(draw: st.DrawFn, segments: tuple[tuple[str, bool], ...]) -> dict[str, Any]:
    """A container in which a rule path reaches values (lists of 1-3 items on `[*]`)."""
    (name, each), rest = segments[0], segments[1:]

    def inner() -> Any:
        return reaching(draw, rest) if rest else draw(leaves)

    return {name: [inner() for _ in range(draw(st.integers(1, 3)))] if each else inner()}


def merged(into: Any, extra: Any) -> Any:
    """Both containers' fields; where both have a field, objects and list items merge too."""
    if isinstance(into, dict) and isinstance(extra, dict):
        for name, value in extra.items():
            into[name] = merged(into[name], value) if name in into else value
    elif isinstance(into, list) and isinstance(extra, list):
        pairs = [merged(a, b) for a, b in zip(into, extra, strict=False)]
        return pairs + into[len(extra) :] + extra[len(into) :]
    return into


@st.composite
def shaped_targets(draw: st.DrawFn, rules: tuple[FieldRule, ...]) -> dict[str, Any]:
    """A target the rule paths reach into, mixed with unrelated fields."""
    target: dict[str, Any] = {}
    for rule in rules:
        merged(target, reaching(draw, parse_path(rule.path)))
    return merged(target, draw(targets))  # type: ignore[no-any-return]


def reference(target: dict[str, Any], rules: tuple[FieldRule, ...], skip: frozenset[str]) -> Any:
    scope = Scope(target, target, InMemoryLookups())
    return evaluate(target, rules=rules, checks=(), scope=scope, skip=skip)


def outcome(judge: Callable[[], Any]) -> Any:
    """The violations, or the error a rule raised (e.g. a list has no text)."""
    try:
        return judge()
    except Exception as exc:  # any error must be the same on both sides
        return (type(exc).__name__, str(exc))


@settings(max_examples=500, deadline=None)
@given(rules=rule_sets(), data=st.data())
def test_rule_set_matches_the_per_rule_walk(
    rules: tuple[FieldRule, ...], data: st.DataObject
) -> None:
    target = data.draw(st.one_of(shaped_targets(rules), targets))
    reached = [path for rule in rules for path, _ in _paths(target, rule)]
    skip = frozenset(data.draw(st.lists(st.sampled_from(reached), max_size=3)) if reached else ())
    expected = outcome(lambda: reference(target, rules, skip))
    assert outcome(lambda: RuleSet(rules).violations(target, skip=skip)) == expected


def _paths(target: dict[str, Any], rule: FieldRule) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    rule.resolver(target, "", found)
    return found


def test_violations_come_by_rule_then_position() -> None:
    checks = (("max_length", check_of("max_length", 3)),)
    rules = tuple(
        FieldRule(path, compile_path(parse_path(path)), checks, {}, True)
        for path in ("to_Item[*].Material", "to_Item[*].Text", "Header")
    )
    target = {"to_Item": [{"Material": "LONG1", "Text": None}, {"Material": None, "Text": "ok"}]}
    found = [(v.field, v.rule) for v in RuleSet(rules).violations(target, skip=frozenset())]
    assert found == [
        ("to_Item[0].Material", "max_length"),
        ("to_Item[1].Material", "required"),
        ("to_Item[0].Text", "required"),
        ("Header", "required"),
    ]
    assert found == [(v.field, v.rule) for v in reference(target, rules, frozenset())]


def test_a_skipped_path_is_not_judged_again() -> None:
    rules = (FieldRule("A", compile_path(parse_path("A")), (), {}, True),)
    assert RuleSet(rules).violations({}, skip=frozenset({"A"})) == []
    assert [v.message for v in RuleSet(rules).violations({}, skip=frozenset())] == ["A is required"]


def test_a_decimal_bound_reads_the_value_exactly() -> None:
    rules = (FieldRule("Q", compile_path(parse_path("Q")), (("min", CHECKS["min"]),), {}, False),)
    (violation,) = RuleSet(rules).violations({"Q": Decimal("0.499")}, skip=frozenset())
    assert violation.message == "Q is below the minimum 0.5"
    assert RuleSet(rules).violations({"Q": Decimal("0.500")}, skip=frozenset()) == []


def test_text_within_the_declared_lengths_passes_and_outside_fails() -> None:
    declared = {"required": True, "min_length": 2, "max_length": 4}
    checks = tuple((name, check_of(name, declared[name])) for name in ("min_length", "max_length"))
    rules = (FieldRule("T", compile_path(parse_path("T")), checks, declared, True),)
    judged = {
        text: [v.rule for v in RuleSet(rules).violations({"T": text}, skip=frozenset())]
        for text in ("", "a", "ab", "abcd", "abcde")
    }
    assert judged == {
        "": ["required"],
        "a": ["min_length"],
        "ab": [],
        "abcd": [],
        "abcde": ["max_length"],
    }


GRID_TEXTS = ("", "A", "1", "2", "12", "1A", "A1", "EUR", "1234", "123456", "ZOR")
GRID_RULES: tuple[dict[str, Any], ...] = (
    {"pattern": "[0-9]+"},
    {"pattern": "[0-9]{1,3}", "max_length": 2},
    {"one_of": ["A", "1", 2]},
    {"one_of": ["OR", "ZOR"], "max_length": 4, "required": True},
    {"one_of": ["A", "1", 2], "pattern": "[0-9]+"},
    {"min_length": 2, "max_length": 3, "pattern": "[0-9A]+"},
    {"max_length": 3, "required": True},
    {"min_length": 0, "max_length": 3, "required": True},
)


@pytest.mark.parametrize("declared", GRID_RULES)
def test_text_rules_judge_every_text_as_the_rules_do(declared: dict[str, Any]) -> None:
    checks = tuple((name, check_of(name, arg)) for name, arg in declared.items() if name in RULES)
    rule = FieldRule("T", compile_path(parse_path("T")), checks, declared, "required" in declared)
    for text in GRID_TEXTS:
        target = {"T": text}
        expected = reference(target, (rule,), frozenset())
        assert RuleSet((rule,)).violations(target, skip=frozenset()) == expected, text


GRID_NUMBERS: tuple[Any, ...] = (
    Decimal("0.001"),
    Decimal("0.0009"),
    Decimal("0"),
    Decimal("-0"),
    Decimal("1000"),
    Decimal("1000.0001"),
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    5,
    0.0005,
    "7",
    None,
)


@pytest.mark.parametrize(
    "declared",
    [{"min": "0.001"}, {"max": 1000}, {"min": 0, "max": "1000", "required": True}],
)
def test_bounds_judge_every_number_as_the_rules_do(declared: dict[str, Any]) -> None:
    checks = tuple((name, check_of(name, arg)) for name, arg in declared.items() if name in RULES)
    rule = FieldRule("N", compile_path(parse_path("N")), checks, declared, "required" in declared)
    for number in GRID_NUMBERS:
        target = {"N": number}
        expected = reference(target, (rule,), frozenset())
        assert RuleSet((rule,)).violations(target, skip=frozenset()) == expected, number
