"""Mapping suggestions (the "AI-assisted" mapping): the public entry points."""

from __future__ import annotations

from isthmus.mapping.flow import Flow
from isthmus.mapping.suggest.fields import FieldInfo, fields_from_avro
from isthmus.mapping.suggest.ranking import Suggestion, suggest_mappings
from isthmus.mapping.targets import ListSpec, ObjectBuilder, ObjectSpec

__all__ = ["FieldInfo", "Suggestion", "fields_from_avro", "mapped_fields", "suggest_mappings"]


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
