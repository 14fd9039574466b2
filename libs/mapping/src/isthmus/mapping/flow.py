"""A compiled flow: trigger test, mapping, validation, ownership and loop-prevention settings."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from isthmus.mapping.expressions.operators import truth
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.lookups import InMemoryLookups, LookupPort
from isthmus.mapping.result import Result, Violation
from isthmus.mapping.rules import FieldRule, RecordCheck, record_violations
from isthmus.mapping.targets import ObjectBuilder
from isthmus.mapping.validation import RuleSet
from isthmus.mapping.writes import WritePlan

_NO_LOOKUPS = InMemoryLookups()
_WILDCARDS = frozenset("*?[")
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Trigger:
    """Which events start the flow: source topic, event type patterns, optional condition."""

    topic: str
    event_types: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    condition: Evaluator | None = None
    condition_text: str | None = None
    _exact: frozenset[str] = field(init=False, repr=False, compare=False)
    _wildcards: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A type without wildcards matches only itself: a set lookup instead of a regex.
        exact: set[str] = set()
        wildcards: list[re.Pattern[str]] = []
        for name, pattern in zip(self.event_types, self.patterns, strict=False):
            if _WILDCARDS.isdisjoint(name) and pattern.pattern == fnmatch.translate(name):
                exact.add(name)
            else:
                wildcards.append(pattern)
        wildcards.extend(self.patterns[len(self.event_types) :])
        object.__setattr__(self, "_exact", frozenset(exact))
        object.__setattr__(self, "_wildcards", tuple(wildcards))

    def accepts(self, event_type: str) -> bool:
        """True when the event type matches one of the patterns."""
        if event_type in self._exact:
            return True
        return any(pattern.fullmatch(event_type) for pattern in self._wildcards)


@dataclass(frozen=True, slots=True)
class TargetSpec:
    """Where the mapped command goes: command topic, command type, key expression."""

    topic: str
    command_type: str
    key: Evaluator | None = None
    key_text: str | None = None


@dataclass(frozen=True, slots=True)
class Ownership:
    """Master-data field ownership: which system owns which target field (`shared` = both)."""

    source_system: str
    default_owner: str = "shared"
    fields: Mapping[str, str] = field(default_factory=dict)

    def withheld(self, target: Mapping[str, Any]) -> tuple[str, ...]:
        """Target fields this flow must not write because another system owns them."""
        return tuple(
            name
            for name in target
            if self.fields.get(name, self.default_owner) not in ("shared", self.source_system)
        )


@dataclass(frozen=True, slots=True)
class LoopPrevention:
    """Drop events our own writes caused (origin user)."""

    origin: Evaluator | None = None
    ignore_origins: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow version, compiled once; `apply` and `matches` do no parsing."""

    id: str
    version: int
    description: str
    source: str
    source_system: str
    target_system: str
    trigger: Trigger
    target: TargetSpec
    builder: ObjectBuilder
    rules: tuple[FieldRule, ...] = ()
    checks: tuple[RecordCheck, ...] = ()
    ownership: Ownership | None = None
    loop_prevention: LoopPrevention = field(default_factory=LoopPrevention)
    enabled: bool = True
    context: Evaluator | None = None
    context_text: str | None = None
    writes: WritePlan | None = None
    reads: frozenset[str] | None = None
    _rule_set: RuleSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rule_set", RuleSet(self.rules))

    def matches(
        self, event_type: str, record: Mapping[str, Any], *, ignore_origins: Iterable[str] = ()
    ) -> bool:
        """True when this flow handles the event: type matches, condition holds, not our echo.

        `ignore_origins` adds origin ids known only at run time (e.g. the integration user's id).

        Raises:
            MappingError: the trigger condition cannot be evaluated on this record.
        """
        if not self.trigger.accepts(event_type):
            return False
        scope = self._scope(record, _NO_LOOKUPS)
        if self._is_echo(scope, ignore_origins):
            return False
        condition = self.trigger.condition
        return condition is None or truth(condition(scope), where="trigger condition")

    def _is_echo(self, scope: Scope, extra: Iterable[str]) -> bool:
        origin_of = self.loop_prevention.origin
        if origin_of is None:
            return False
        origin = to_string(origin_of(scope))
        if origin is None:
            return False
        return origin in self.loop_prevention.ignore_origins or origin in set(extra)

    def apply(self, record: Mapping[str, Any], lookups: LookupPort) -> Result:
        """Map one source record and validate the target; never raises for a bad record.

        Errors from the caller's LookupPort (e.g. its store is down) propagate unchanged.
        """
        scope = self._scope(record, lookups)
        violations: list[Violation] = []
        target = self.builder.build(scope, "", violations)
        failed = frozenset(violation.field for violation in violations) if violations else _NONE
        check_scope = Scope(target, record, lookups)
        violations.extend(self._rule_set.violations(target, skip=failed))
        violations.extend(record_violations(self.checks, scope=check_scope))
        if violations:
            return Result(self.id, self.version, None, tuple(violations))
        withheld = self.ownership.withheld(target) if self.ownership else ()
        for name in withheld:
            del target[name]
        return Result(self.id, self.version, target, (), withheld)

    def key(self, record: Mapping[str, Any], lookups: LookupPort | None = None) -> str | None:
        """The target record key from the flow's key expression (None when not declared).

        ``lookups`` answers ``xref(...)`` in the key expression (e.g. the Dataverse id of an
        S/4 order); without it such a key fails.

        Raises:
            MappingError: the key expression fails on this record.
        """
        if self.target.key is None:
            return None
        scope = self._scope(record, _NO_LOOKUPS if lookups is None else lookups)
        return to_string(self.target.key(scope))

    def _scope(self, record: Mapping[str, Any], lookups: LookupPort) -> Scope:
        """Scope with `$` at the flow's context (e.g. the event's data) and `$$` the event."""
        root = Scope(record, record, lookups)
        if self.context is None:
            return root
        return Scope(self.context(root), record, lookups)
