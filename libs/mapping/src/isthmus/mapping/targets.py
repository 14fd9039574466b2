"""Builds target records from compiled field specifications, collecting every mapping failure.

Each field spec is turned once into a small "producer" closure; building a record then only calls
closures. Paths for violation messages are assembled only when something fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from isthmus.mapping.errors import ConversionError, LookupMissError, MappingError
from isthmus.mapping.expressions.operators import truth
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.result import Violation
from isthmus.mapping.values import as_list

# (scope, path prefix of this field, violations) -> value
Producer = Callable[[Scope, str, list[Violation]], Any]


@dataclass(frozen=True, slots=True)
class ValueSpec:
    """A target field computed by an expression, with an optional default and condition."""

    name: str
    expression: str
    value: Evaluator
    default: Evaluator | None = None
    when: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class ObjectSpec:
    """A nested target object (`fields:`) built in the same scope."""

    name: str
    builder: ObjectBuilder
    when: Evaluator | None = None


@dataclass(frozen=True, slots=True)
class ListSpec:
    """A target list: one object per source element (`each:`), then fixed objects (`items:`)."""

    name: str
    each: Evaluator | None
    each_builder: ObjectBuilder | None
    items: tuple[tuple[Evaluator | None, ObjectBuilder], ...] = ()
    when: Evaluator | None = None
    each_when: Evaluator | None = None


FieldSpec = ValueSpec | ObjectSpec | ListSpec


def _rule_of(exc: MappingError) -> str:
    if isinstance(exc, LookupMissError):
        return "lookup"
    if isinstance(exc, ConversionError):
        return "conversion"
    return "expression"


def _value_of(exc: MappingError) -> Any:
    if isinstance(exc, ConversionError):
        return exc.value
    if isinstance(exc, LookupMissError):
        return exc.key
    return None


def _nested_only(_scope: Scope) -> Any:  # pragma: no cover - never called, see _Step
    raise AssertionError("a nested field is built by its producer")


# One field of the plan: name, expression (for messages), condition, value, nested producer.
# A plain value field is computed by `value` alone; nested objects and lists need the path and
# the violations, so they go through `nested` (and `value` is the unused `_nested_only`).
_Step = tuple[str, str, Evaluator | None, Evaluator, Producer | None]


@dataclass(frozen=True, slots=True)
class ObjectBuilder:
    """An ordered set of field specs; builds one dict and records failures as violations."""

    fields: tuple[FieldSpec, ...]
    _plan: tuple[_Step, ...] = field(init=False, repr=False, compare=False)
    # (name, value) of every field when all are plain values without `when` (list items, ids)
    _plain: tuple[tuple[str, Evaluator], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        plan = tuple(_step(spec) for spec in self.fields)
        plain = tuple(
            (name, value) for name, _, when, value, nested in plan if not (when or nested)
        )
        unique = len({name for name, *_ in plan}) == len(plan)
        object.__setattr__(self, "_plan", plan)
        object.__setattr__(self, "_plain", plain if unique and len(plain) == len(plan) else ())

    def build(self, scope: Scope, path: str, violations: list[Violation]) -> dict[str, Any]:
        """Evaluate every field; a failing field is left out and reported, the rest still map."""
        target: dict[str, Any] = {}
        if not self._plain:
            self._fill(target, self._plan, scope, path, violations)
            return target
        try:
            for name, value in self._plain:
                target[name] = value(scope)
        except MappingError as exc:  # every field before it is in the target; go on carefully
            failed = len(target)
            self._report(self._plan[failed], exc, path, violations)
            self._fill(target, self._plan[failed + 1 :], scope, path, violations)
        return target

    @staticmethod
    def _fill(
        target: dict[str, Any],
        plan: tuple[_Step, ...],
        scope: Scope,
        path: str,
        violations: list[Violation],
    ) -> None:
        for step in plan:
            name, _, when, value, nested = step
            try:
                if when is not None and not truth(when(scope), where="when"):
                    continue
                if nested is None:
                    target[name] = value(scope)
                else:
                    target[name] = nested(scope, path + name, violations)
            except MappingError as exc:
                ObjectBuilder._report(step, exc, path, violations)

    @staticmethod
    def _report(step: _Step, exc: MappingError, path: str, violations: list[Violation]) -> None:
        name, expression = step[0], step[1]
        message = f"{exc} (in `{expression}`)"
        violations.append(Violation(path + name, _rule_of(exc), _value_of(exc), message))


def _step(spec: FieldSpec) -> _Step:
    if isinstance(spec, ValueSpec):
        value = _with_default(spec.value, spec.default)
        return (spec.name, spec.expression, spec.when, value, None)
    if isinstance(spec, ObjectSpec):
        return (spec.name, spec.name, spec.when, _nested_only, _object_producer(spec.builder))
    return (spec.name, spec.name, spec.when, _nested_only, _list_producer(spec))


def _object_producer(builder: ObjectBuilder) -> Producer:
    return lambda scope, where, violations: builder.build(scope, where + ".", violations)


def _with_default(value: Evaluator, default: Evaluator | None) -> Evaluator:
    if default is None:
        return value

    def or_default(scope: Scope) -> Any:
        result = value(scope)
        return default(scope) if result is None else result

    return or_default


def _list_producer(spec: ListSpec) -> Producer:
    each, each_builder, each_when, items = spec.each, spec.each_builder, spec.each_when, spec.items

    def produce(scope: Scope, where: str, violations: list[Violation]) -> list[Any]:
        result: list[dict[str, Any]] = []
        if each is not None and each_builder is not None:
            for index, item in enumerate(as_list(each(scope))):
                child = Scope(item, scope.root, scope.lookups, index, scope)
                if each_when is not None and not truth(each_when(child), where="when"):
                    continue
                result.append(each_builder.build(child, f"{where}[{len(result)}].", violations))
        for condition, builder in items:
            if condition is None or truth(condition(scope), where="when"):
                result.append(builder.build(scope, f"{where}[{len(result)}].", violations))
        return result

    return produce
