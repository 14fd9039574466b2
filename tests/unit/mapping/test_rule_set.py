"""The one-walk rule set reports exactly what the per-rule reference walk reports, in order."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from isthmus.mapping.expressions.scope import Scope
from isthmus.mapping.lookups import InMemoryLookups
from isthmus.mapping.rules import RULES, FieldRule, compile_path, evaluate, in_values, parse_path
from isthmus.mapping.validation import RuleSet

NAMES = ("a", "b", "c")
CHECKS = {
    "max_length": RULES["max_length"](3),
    "min_length": RULES["min_length"](2),
    "pattern": RULES["pattern"]("[0-9]+"),
    "min": RULES["min"]("0.5"),
    "max": RULES["max"](10),
    "one_of": RULES["one_of"](["A", "1", 2]),
    "in_table": in_values("currency", frozenset({"EUR", "USD"})),
}

segments = st.tuples(st.sampled_from(NAMES), st.booleans()).map(
    lambda pair: f"{pair[0]}[*]" if pair[1] else pair[0]
)
paths = st.lists(segments, min_size=1, max_size=3).map(".".join)
leaves = st.one_of(
    st.none(),
    st.just(""),
    st.just([]),
    st.text(alphabet="0123456789AEURS.-", max_size=5),
    st.integers(min_value=-20, max_value=20),
    st.decimals(min_value=-20, max_value=20, places=3),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.floats(min_value=-20, max_value=20),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(NAMES), inner),
    max_leaves=12,
)
targets = st.dictionaries(st.sampled_from(NAMES), values, max_size=3)


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[FieldRule, ...]:
    rules = []
    for path in draw(st.lists(paths, min_size=1, max_size=6, unique=True)):
        names = draw(st.lists(st.sampled_from(sorted(CHECKS)), max_size=3, unique=True))
        checks = tuple((name, CHECKS[name]) for name in names)
        required = draw(st.booleans())
        rules.append(FieldRule(path, compile_path(parse_path(path)), checks, {}, required))
    return tuple(rules)


def reference(target: dict[str, Any], rules: tuple[FieldRule, ...], skip: frozenset[str]) -> Any:
    scope = Scope(target, target, InMemoryLookups())
    return evaluate(target, rules=rules, checks=(), scope=scope, skip=skip)


def outcome(judge: Callable[[], Any]) -> Any:
    """The violations, or the error a rule raised (e.g. a list has no text)."""
    try:
        return judge()
    except Exception as exc:  # any error must be the same on both sides
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None)
@given(rules=rule_sets(), target=targets, data=st.data())
def test_rule_set_matches_the_per_rule_walk(
    rules: tuple[FieldRule, ...], target: dict[str, Any], data: st.DataObject
) -> None:
    reached = [path for rule in rules for path, _ in _paths(target, rule)]
    skip = frozenset(data.draw(st.lists(st.sampled_from(reached), max_size=3)) if reached else ())
    expected = outcome(lambda: reference(target, rules, skip))
    assert outcome(lambda: RuleSet(rules).violations(target, skip=skip)) == expected


def _paths(target: dict[str, Any], rule: FieldRule) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    rule.resolver(target, "", found)
    return found


def test_violations_come_by_rule_then_position() -> None:
    checks = (("max_length", CHECKS["max_length"]),)
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
