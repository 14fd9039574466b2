"""Compiles a schema-valid flow document (a dict read from YAML) into a Flow."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from isthmus.mapping.dependencies import event_reads
from isthmus.mapping.errors import FlowDefinitionError
from isthmus.mapping.expressions.compiler import Environment, compile_expression
from isthmus.mapping.expressions.scope import Evaluator
from isthmus.mapping.flow import Flow, LoopPrevention, Ownership, TargetSpec, Trigger
from isthmus.mapping.lookups import StaticTable
from isthmus.mapping.rules import (
    RULES,
    FieldRule,
    RecordCheck,
    compile_path,
    in_values,
    parse_path,
)
from isthmus.mapping.targets import FieldSpec, ListSpec, ObjectBuilder, ObjectSpec, ValueSpec
from isthmus.mapping.writes import plan_writes


def compile_flow(
    document: Mapping[str, Any], *, tables: Mapping[str, StaticTable], source: str = "<flow>"
) -> Flow:
    """Compile every expression and rule of a flow once.

    Raises:
        FlowDefinitionError: an expression, table reference or rule is invalid; the message names
            the file, the field and the position in the expression.
    """
    compiler = _FlowCompiler(tables, source)
    trigger = document["trigger"]
    target = document["target"]
    return Flow(
        id=document["id"],
        version=int(document["version"]),
        description=str(document.get("description", "")).strip(),
        source=source,
        source_system=trigger["system"],
        target_system=target["system"],
        trigger=compiler.trigger(trigger),
        target=compiler.target(target),
        builder=compiler.object(document["mapping"], "mapping"),
        rules=compiler.rules(document.get("validation", {})),
        checks=compiler.checks(document.get("checks", [])),
        ownership=compiler.ownership(document.get("ownership"), trigger["system"]),
        loop_prevention=compiler.loop_prevention(document.get("loop_prevention", {})),
        enabled=bool(document.get("enabled", True)),
        context=compiler.maybe(document.get("context"), "context"),
        context_text=document.get("context"),
        writes=plan_writes(document),
        reads=event_reads(document),
    )


class _FlowCompiler:
    def __init__(self, tables: Mapping[str, StaticTable], source: str) -> None:
        self.tables = tables
        self.source = source

    def expr(self, text: str, where: str) -> Evaluator:
        env = Environment(tables=self.tables, source=self.source, field=where)
        return compile_expression(text, env=env)

    def maybe(self, text: str | None, where: str) -> Evaluator | None:
        return None if text is None else self.expr(text, where)

    def trigger(self, spec: Mapping[str, Any]) -> Trigger:
        types = spec["event_types"]
        types = (types,) if isinstance(types, str) else tuple(types)
        patterns = tuple(re.compile(fnmatch.translate(pattern)) for pattern in types)
        condition = spec.get("condition")
        return Trigger(
            spec["topic"], types, patterns, self.maybe(condition, "trigger.condition"), condition
        )

    def target(self, spec: Mapping[str, Any]) -> TargetSpec:
        key = spec.get("key")
        return TargetSpec(spec["topic"], spec["command_type"], self.maybe(key, "target.key"), key)

    def object(self, fields: Mapping[str, Any], where: str) -> ObjectBuilder:
        return ObjectBuilder(
            tuple(self.field(name, spec, f"{where}.{name}") for name, spec in fields.items())
        )

    def field(self, name: str, spec: Any, where: str) -> FieldSpec:
        if isinstance(spec, str):
            return ValueSpec(name, spec, self.expr(spec, where))
        when = self.maybe(spec.get("when"), f"{where}.when")
        if "const" in spec:
            constant = spec["const"]
            return ValueSpec(name, repr(constant), lambda _scope: constant, None, when)
        if "value" in spec:
            default = self.maybe(spec.get("default"), f"{where}.default")
            return ValueSpec(name, spec["value"], self.expr(spec["value"], where), default, when)
        if "each" in spec or "items" in spec:
            return self.sequence(name, spec, where, when)
        return ObjectSpec(name, self.object(spec["fields"], f"{where}.fields"), when)

    def sequence(
        self, name: str, spec: Mapping[str, Any], where: str, when: Evaluator | None
    ) -> ListSpec:
        items = tuple(
            (
                self.maybe(item.get("when"), f"{where}.items[{i}].when"),
                self.object(item["fields"], f"{where}.items[{i}].fields"),
            )
            for i, item in enumerate(spec.get("items", []))
        )
        each = self.maybe(spec.get("each"), f"{where}.each")
        builder = self.object(spec["fields"], f"{where}.fields") if each is not None else None
        each_when = self.maybe(spec.get("each_when"), f"{where}.each_when")
        return ListSpec(name, each, builder, items, when, each_when)

    def rules(self, spec: Mapping[str, Mapping[str, Any]]) -> tuple[FieldRule, ...]:
        return tuple(
            FieldRule(
                path,
                compile_path(parse_path(path)),
                tuple(
                    (rule, self.check(rule, argument, path))
                    for rule, argument in rules.items()
                    if rule != "required"
                ),
                dict(rules),
                required="required" in rules,
            )
            for path, rules in spec.items()
        )

    def check(self, rule: str, argument: Any, path: str) -> Any:
        if rule == "in_table":
            table = self.tables.get(argument)
            if table is None:
                raise FlowDefinitionError(
                    f"unknown table {argument!r}", source=self.source, field=f"validation.{path}"
                )
            return in_values(argument, frozenset(table.forward.values()))
        try:
            return RULES[rule](argument)
        except re.error as exc:
            raise FlowDefinitionError(
                f"bad pattern: {exc}", source=self.source, field=f"validation.{path}"
            ) from exc

    def checks(self, spec: list[Mapping[str, Any]]) -> tuple[RecordCheck, ...]:
        return tuple(
            RecordCheck(
                item["field"],
                item["rule"],
                self.expr(item["rule"], f"checks[{i}].rule"),
                item["message"],
            )
            for i, item in enumerate(spec)
        )

    def ownership(self, spec: Mapping[str, Any] | None, system: str) -> Ownership | None:
        if spec is None:
            return None
        return Ownership(system, spec.get("default", "shared"), dict(spec.get("fields", {})))

    def loop_prevention(self, spec: Mapping[str, Any]) -> LoopPrevention:
        return LoopPrevention(
            origin=self.maybe(spec.get("origin"), "loop_prevention.origin"),
            ignore_origins=frozenset(spec.get("ignore_origins", [])),
        )
