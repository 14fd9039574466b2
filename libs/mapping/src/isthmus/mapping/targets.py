"""Builds target records from compiled field specifications, collecting every mapping failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from isthmus.mapping.errors import ConversionError, LookupMissError, MappingError
from isthmus.mapping.expressions.operators import truth
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.result import Violation
from isthmus.mapping.values import as_list


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


@dataclass(frozen=True, slots=True)
class ObjectBuilder:
    """An ordered set of field specs; builds one dict and records failures as violations."""

    fields: tuple[FieldSpec, ...]

    def build(self, scope: Scope, path: str, violations: list[Violation]) -> dict[str, Any]:
        """Evaluate every field; a failing field is left out and reported, the rest still map."""
        target: dict[str, Any] = {}
        for spec in self.fields:
            where = f"{path}{spec.name}"
            try:
                if spec.when is not None and not truth(spec.when(scope), where="when"):
                    continue
                target[spec.name] = self._field(spec, scope, where, violations)
            except MappingError as exc:
                expression = spec.expression if isinstance(spec, ValueSpec) else spec.name
                violations.append(
                    Violation(where, _rule_of(exc), _value_of(exc), f"{exc} (in `{expression}`)")
                )
        return target

    def _field(self, spec: FieldSpec, scope: Scope, where: str, violations: list[Violation]) -> Any:
        if isinstance(spec, ValueSpec):
            value = spec.value(scope)
            if value is None and spec.default is not None:
                value = spec.default(scope)
            return value
        if isinstance(spec, ObjectSpec):
            return spec.builder.build(scope, f"{where}.", violations)
        return _build_list(spec, scope, where, violations)


def _build_list(spec: ListSpec, scope: Scope, where: str, violations: list[Violation]) -> list[Any]:
    result: list[dict[str, Any]] = []
    if spec.each is not None and spec.each_builder is not None:
        for index, item in enumerate(as_list(spec.each(scope))):
            child = scope.child(item, index)
            if spec.each_when is not None and not truth(spec.each_when(child), where="when"):
                continue
            result.append(spec.each_builder.build(child, f"{where}[{len(result)}].", violations))
    for condition, builder in spec.items:
        if condition is None or truth(condition(scope), where="when"):
            result.append(builder.build(scope, f"{where}[{len(result)}].", violations))
    return result


def _value_of(exc: MappingError) -> Any:
    if isinstance(exc, ConversionError):
        return exc.value
    if isinstance(exc, LookupMissError):
        return exc.key
    return None
