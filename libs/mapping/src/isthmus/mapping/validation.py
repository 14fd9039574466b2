"""Field rules compiled into one walk of the target: every path segment is read once per record.

`rules.field_violations` walks the target once per rule; here the rule paths are merged into a
tree (`to_Item[*].Material` and `to_Item[*].RequestedQuantity` share the `to_Item[*]` node), so
one pass over the items serves every rule on them. Text that fits a field's declared lengths,
pattern or code list passes without running its checks. Violations come out in the same order as
`rules.field_violations` gives them: by rule, then by position."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any

from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.result import Violation
from isthmus.mapping.rules import Check, FieldRule, field_violations, parse_path, present

# (rule position, violation): the position restores the per-rule order at the end.
Found = list[tuple[int, Violation]]
# (container, path prefix such as "" or "to_Item[0].", paths to skip, found) -> None
Visit = Callable[[Any, str, frozenset[str], Found], None]
_BY_RULE = itemgetter(0)


# (value, path prefix, segment name, paths to skip, found) -> None; the path is built on demand.
Judge = Callable[[Any, str, str, frozenset[str], Found], None]
# A test on text that must hold (a regex fullmatch, membership in a code list).
TextTest = Callable[[str], object]
# (shortest, longest, test, judge): text of a length in the window that passes the test (if any)
# breaks none of the field's rules, so the checks need not run; (1, -1) is the empty window of a
# field with other kinds of rules.
# (lowest, highest): a finite Decimal in them passes every rule of a field with min/max only.
Bounds = tuple[Decimal, Decimal]
Ruling = tuple[int, int, TextTest | None, Bounds | None, Judge]
_LENGTH_RULES = frozenset({"max_length", "min_length"})
_TEXT_RULES = _LENGTH_RULES | {"pattern", "one_of"}
_NUMBER_RULES = frozenset({"min", "max"})
_NO_SHORTCUT: tuple[int, int, TextTest | None] = (1, -1, None)


@dataclass(slots=True)
class _Node:
    rulings: list[Ruling] = field(default_factory=list)
    children: dict[tuple[str, bool], _Node] = field(default_factory=dict)


def _judge(order: int, required: bool, checks: tuple[tuple[str, Check], ...]) -> Judge:
    """One rule's checks on one value reached at `prefix + name`."""

    def judge(value: Any, prefix: str, name: str, skip: frozenset[str], found: Found) -> None:
        if skip and prefix + name in skip:
            return
        if not value and not present(value):  # anything truthy is present: skip the call
            if required:
                path = prefix + name
                found.append((order, Violation(path, "required", value, f"{path} is required")))
            return
        for rule, check in checks:
            message = check(value)
            if message is not None:
                path = prefix + name
                found.append((order, Violation(path, rule, value, f"{path} {message}")))

    return judge


def _shortcut(rule: FieldRule) -> tuple[int, int, TextTest | None]:
    """What text passes every rule of a field with text rules only (read from its flow text)."""
    named = {name for name, _ in rule.checks}
    if named != set(rule.declared) - {"required"} or not named <= _TEXT_RULES:
        return _NO_SHORTCUT
    if {"pattern", "one_of"} <= named:
        return _NO_SHORTCUT
    window = _window(rule.declared, named & _LENGTH_RULES)
    if window is None:
        return _NO_SHORTCUT
    if "pattern" in named:  # the same text compiles to the same regex as rules.pattern's
        return (*window, re.compile(rule.declared["pattern"]).fullmatch)
    if "one_of" in named:  # the same code set as rules.one_of's
        return (
            *window,
            frozenset(to_string(code) for code in rule.declared["one_of"]).__contains__,
        )
    return (*window, None)


def _bounds(rule: FieldRule) -> Bounds | None:
    """What numbers pass every rule of a field with `min`/`max` only (read from its flow text)."""
    named = {name for name, _ in rule.checks}
    if not named or named != set(rule.declared) - {"required"} or not named <= _NUMBER_RULES:
        return None
    # the same edges as rules._bound's
    lowest = Decimal(str(rule.declared["min"])) if "min" in named else Decimal("-Infinity")
    highest = Decimal(str(rule.declared["max"])) if "max" in named else Decimal("Infinity")
    return lowest, highest


def _window(declared: Mapping[str, Any], named: set[str]) -> tuple[int, int] | None:
    """The text lengths the length rules accept (None for a limit that is no whole number)."""
    limits: dict[str, int] = {}
    for name in named:
        limit = declared[name]
        if type(limit) is not int:
            return None
        limits[name] = limit
    shortest, longest = limits.get("min_length", 1), limits.get("max_length", sys.maxsize)
    return max(1, shortest), longest  # empty text is absent: it never passes on length alone


def _no_field(_name: str) -> None:
    return None


def _shortcut_groups(node: _Node) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    """The plain fields under a node by shortcut: text lengths, text tests, number bounds.

    Length-only text fields are most SAP text; a field without a shortcut lands with them
    under an empty window, so its value always goes to the judge.
    """
    plain = [
        (name, *ruling)
        for (name, each), child in node.children.items()
        if not each and not child.children
        for ruling in child.rulings
    ]
    sized = tuple(
        (name, low, high, judge)
        for name, low, high, test, bounds, judge in plain
        if not test and not bounds
    )
    tested = tuple(
        (name, low, high, test, judge) for name, low, high, test, _, judge in plain if test
    )
    bounded = tuple((name, *bounds, judge) for name, _, _, _, bounds, judge in plain if bounds)
    return sized, tested, bounded


def _walker(node: _Node) -> Visit:
    """The walk over one container: its plain fields with rules first, then deeper paths."""
    sized, tested, bounded = _shortcut_groups(node)
    deeper = tuple(
        _visitor(name, each, child)
        for (name, each), child in node.children.items()
        if each or child.children
    )

    def walk(container: Any, prefix: str, skip: frozenset[str], found: Found) -> None:
        get = container.get if isinstance(container, dict) else _no_field
        for name, shortest, longest, judge in sized:
            value = get(name)
            if type(value) is not str or not shortest <= len(value) <= longest:
                judge(value, prefix, name, skip, found)
        for name, shortest, longest, test, judge in tested:
            value = get(name)
            if type(value) is not str or not shortest <= len(value) <= longest or not test(value):
                judge(value, prefix, name, skip, found)
        for name, lowest, highest, judge in bounded:
            value = get(name)
            if (
                type(value) is not Decimal
                or not value.is_finite()
                or not lowest <= value <= highest
            ):
                judge(value, prefix, name, skip, found)
        for visit in deeper:
            visit(container, prefix, skip, found)

    return walk


def _visitor(name: str, each: bool, node: _Node) -> Visit:
    """The walk below one path segment: its own rules, then the segments under it."""
    judges, below = tuple(ruling[-1] for ruling in node.rulings), _walker(node)
    if each:

        def spread(container: Any, prefix: str, skip: frozenset[str], found: Found) -> None:
            items = container.get(name) if isinstance(container, dict) else None
            if not isinstance(items, list):
                return
            here = prefix + name
            for index, item in enumerate(items):
                path = f"{here}[{index}]"
                for judge in judges:
                    judge(item, path, "", skip, found)
                below(item, path + ".", skip, found)

        return spread

    def step(container: Any, prefix: str, skip: frozenset[str], found: Found) -> None:
        value = container.get(name) if isinstance(container, dict) else None
        for judge in judges:
            judge(value, prefix, name, skip, found)
        below(value, prefix + name + ".", skip, found)

    return step


class RuleSet:
    """Every field rule of a flow, checked in one walk of the mapped target."""

    __slots__ = ("_rules", "_walk")

    def __init__(self, rules: tuple[FieldRule, ...]) -> None:
        self._rules = rules
        root = _Node()
        for order, rule in enumerate(rules):
            node = root
            for segment in parse_path(rule.path):
                node = node.children.setdefault(segment, _Node())
            judge = _judge(order, rule.required, rule.checks)
            node.rulings.append((*_shortcut(rule), _bounds(rule), judge))
        self._walk = _walker(root)

    def violations(self, target: dict[str, Any], *, skip: frozenset[str]) -> list[Violation]:
        """Every broken field rule, by rule then position; paths in `skip` are not judged.

        Raises:
            ConversionError: a rule needs the text of a value that has none (e.g. a list); the
                error is the one `rules.field_violations` raises, which judges rule by rule.
        """
        found: Found = []
        try:
            self._walk(target, "", skip, found)
        except Exception:  # rare: the rule-by-rule walk raises the very error it raised before
            return field_violations(target, rules=self._rules, skip=skip)
        if not found:
            return []
        found.sort(key=_BY_RULE)
        return [violation for _, violation in found]
