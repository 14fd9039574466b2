"""Mapping suggestions (the "AI-assisted" mapping): the public entry points."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from isthmus.mapping.flow import Flow
from isthmus.mapping.suggest.fields import FieldInfo, fields_from_avro
from isthmus.mapping.suggest.ranking import Suggestion, suggest_mappings
from isthmus.mapping.targets import ListSpec, ObjectBuilder, ObjectSpec

__all__ = [
    "FieldInfo",
    "Suggestion",
    "fields_from_avro",
    "mapped_fields",
    "suggest_for_flow",
    "suggest_mappings",
]
_SIMPLE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Filled by the transformer, not by a flow (see CommandHeader).
_CALLER_OWNED = "header."


def suggest_for_flow(
    *,
    flow: Flow,
    source_schema: Mapping[str, Any],
    target_schema: Mapping[str, Any],
    samples: Sequence[Mapping[str, Any]] = (),
    limit: int = 3,
) -> dict[str, list[Suggestion]]:
    """Suggestions for the target fields a flow does not map yet.

    The schemas are self-contained Avro record dicts (e.g. a catalogue entry's JSON text); sample
    events are read through the flow's context (e.g. `data`), as its expressions see them.
    """
    prefix = f"{flow.context_text}." if flow.context_text else ""
    if prefix and not _SIMPLE_PATH.match(flow.context_text or ""):
        prefix = ""
    sources = [
        FieldInfo(field.path.removeprefix(prefix), field.type, field.doc)
        for field in fields_from_avro(source_schema)
        if field.path.startswith(prefix)
    ]
    targets = [f for f in fields_from_avro(target_schema) if not f.path.startswith(_CALLER_OWNED)]
    return suggest_mappings(
        source_fields=sources,
        target_fields=targets,
        mapped=mapped_fields(flow),
        samples=[_within(sample, prefix) for sample in samples],
        limit=limit,
    )


def _within(sample: Mapping[str, Any], prefix: str) -> Mapping[str, Any]:
    value: Any = sample
    for part in prefix.rstrip(".").split(".") if prefix else ():
        value = value.get(part) if isinstance(value, Mapping) else None
    return value if isinstance(value, Mapping) else {}


def mapped_fields(flow: Flow) -> frozenset[str]:
    """Target field paths a flow already maps (`to_Item[*].Material` style)."""
    return frozenset(_paths(flow.builder, ""))


def _paths(builder: ObjectBuilder, prefix: str) -> list[str]:
    paths: list[str] = []
    for spec in builder.fields:
        path = f"{prefix}{spec.name}"
        if isinstance(spec, ObjectSpec):
            paths.extend(_paths(spec.builder, f"{path}."))
        elif isinstance(spec, ListSpec):
            builders = [b for _, b in spec.items] + (
                [spec.each_builder] if spec.each_builder else []
            )
            for child in builders:
                paths.extend(_paths(child, f"{path}[*]."))
        else:
            paths.append(path)
    return paths
