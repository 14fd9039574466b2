"""Ranks candidate source fields for each unmapped target field, with a score and a reason."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from isthmus.mapping.suggest.fields import FieldInfo
from isthmus.mapping.suggest.naming import concepts, head, words
from isthmus.mapping.suggest.profiles import EXPECTED, profile

NAME_WEIGHT, TYPE_WEIGHT, VALUE_WEIGHT = 0.6, 0.25, 0.15
_NUMERIC = frozenset({"int", "decimal"})
_TEMPORAL = frozenset({"date", "datetime"})
_TEXTUAL = frozenset({"string", "enum"})


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate source field for a target field: score in [0, 1] and why."""

    target: str
    source: str
    score: float
    reason: str


def suggest_mappings(
    *,
    source_fields: Sequence[FieldInfo],
    target_fields: Sequence[FieldInfo],
    mapped: Iterable[str] = (),
    samples: Sequence[Mapping[str, Any]] = (),
    limit: int = 3,
    threshold: float = 0.4,
) -> dict[str, list[Suggestion]]:
    """For every target field not in `mapped`, the best `limit` source fields above `threshold`.

    Scores combine name similarity across naming styles and CRM/ERP synonyms (60 %), type
    compatibility (25 %) and, when sample source records are given, whether the sampled values
    look like what the target expects (15 %; neutral without samples).
    """
    done = set(mapped)
    profiles = {field.path: profile(values_at(samples, field.path)) for field in source_fields}
    result: dict[str, list[Suggestion]] = {}
    for target in target_fields:
        if target.path in done:
            continue
        ranked = sorted(
            (_score(target, source, profiles[source.path]) for source in source_fields),
            key=lambda suggestion: (-suggestion.score, suggestion.source),
        )
        result[target.path] = [s for s in ranked if s.score >= threshold][:limit]
    return result


def _score(
    target: FieldInfo, source: FieldInfo, values: tuple[str, list[Any]] | None
) -> Suggestion:
    name, shared = name_similarity(source.name, target.name)
    kind = type_compatibility(source.type, target.type)
    value, value_reason = _value_fit(target, values)
    # Type and values only count in proportion to a plausible name: a matching type alone
    # says little, as most fields are strings.
    gate = min(1.0, name / 0.5)
    score = round(NAME_WEIGHT * name + gate * (TYPE_WEIGHT * kind + VALUE_WEIGHT * value), 3)
    because = f"name {name:.2f}" + (f" (shared: {', '.join(sorted(shared))})" if shared else "")
    because += f"; type {source.type}->{target.type} {kind:.2f}"
    if value_reason:
        because += f"; {value_reason}"
    return Suggestion(target.path, source.path, min(score, 1.0), because)


def name_similarity(source: str, target: str) -> tuple[float, frozenset[str]]:
    """Concept overlap (Dice, the target's head concept counting double) and spelling."""
    left, right = concepts(source), concepts(target)
    shared = left & right
    main = head(target)

    def weight(items: frozenset[str]) -> int:
        return sum(2 if item == main else 1 for item in items)

    total = weight(left) + weight(right)
    dice = 2 * weight(shared) / total if total else 0.0
    spelling = difflib.SequenceMatcher(None, "".join(words(source)), "".join(words(target))).ratio()
    return max(dice, 0.75 * dice + 0.25 * spelling, 0.6 * spelling), shared


def type_compatibility(source: str, target: str) -> float:
    """1 for the same type, less for convertible types, 0 for structure against a scalar."""
    if source == target:
        return 1.0
    pair = {source, target}
    if "object" in pair:
        return 0.0
    if pair <= _NUMERIC or pair <= _TEMPORAL or pair <= _TEXTUAL:
        return 0.8
    if pair & _TEXTUAL:
        return 0.5
    return 0.2


def _value_fit(target: FieldInfo, values: tuple[str, list[Any]] | None) -> tuple[float, str]:
    expected = EXPECTED.get(head(target.name) or "")
    if values is None:
        return 0.5, ""
    kind, examples = values
    shown = ", ".join(repr(example) for example in examples)
    if expected is None:
        return 0.5, f"values look like {kind} ({shown})"
    if kind == expected or (expected == "date" and kind == "datetime"):
        return 1.0, f"values look like {kind} as expected ({shown})"
    return 0.0, f"values look like {kind}, {expected} expected ({shown})"


def values_at(records: Sequence[Mapping[str, Any]], path: str) -> list[Any]:
    """Every value a field path (`a.b[*].c`) reaches in the sample records."""
    found: list[Any] = []
    for record in records:
        found.extend(_reach(record, path.split(".")))
    return found


def _reach(value: Any, parts: list[str]) -> list[Any]:
    if not parts:
        return [value]
    head, rest = parts[0], parts[1:]
    each = head.endswith("[*]")
    child = value.get(head.removesuffix("[*]")) if isinstance(value, Mapping) else None
    if not each:
        return _reach(child, rest)
    items = child if isinstance(child, list) else []
    return [found for item in items for found in _reach(item, rest)]
