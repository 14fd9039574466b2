"""Avro names: full names, the types a raw schema defines and references, and inlining."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})
NAMED_KINDS = frozenset({"record", "error", "enum", "fixed"})

Json = Any
"""A schema as parsed JSON: a str, a list (union) or a dict."""


def full_name(name: str, namespace: str | None) -> str:
    """Resolve ``name`` against the enclosing ``namespace`` (a dotted name is already full)."""
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def walk_names(schema: Json, namespace: str | None = None) -> Iterator[tuple[str, str]]:
    """Yield ``("defines", full name)`` and ``("uses", full name)`` for every named type."""
    if isinstance(schema, str):
        if schema not in PRIMITIVES:
            yield "uses", full_name(schema, namespace)
        return
    if isinstance(schema, list):
        for branch in schema:
            yield from walk_names(branch, namespace)
        return
    kind = schema.get("type")
    if kind in NAMED_KINDS:
        name = full_name(schema["name"], schema.get("namespace", namespace))
        yield "defines", name
        namespace = name.rpartition(".")[0] or None
        for field in schema.get("fields", ()):
            yield from walk_names(field["type"], namespace)
    elif kind == "array":
        yield from walk_names(schema["items"], namespace)
    elif kind == "map":
        yield from walk_names(schema["values"], namespace)
    else:
        yield from walk_names(kind, namespace)


def inline_named(schema: Json, named: Mapping[str, Json], seen: set[str] | None = None) -> Json:
    """Return ``schema`` with each referenced named type defined inline at its first use.

    ``schema`` and ``named`` are fastavro-parsed (every name is full), so the result is a
    self-contained schema: what a registry stores and what Parsing Canonical Form is taken of.
    """
    seen = set() if seen is None else seen
    if isinstance(schema, str):
        if schema in PRIMITIVES or schema in seen:
            return schema
        return inline_named(named[schema], named, seen)
    if isinstance(schema, list):
        return [inline_named(branch, named, seen) for branch in schema]
    result = {key: value for key, value in schema.items() if not key.startswith("__")}
    kind = result.get("type")
    if kind in NAMED_KINDS:
        seen.add(result["name"])
        if "fields" in result:
            result["fields"] = [
                {**field, "type": inline_named(field["type"], named, seen)}
                for field in result["fields"]
            ]
    elif kind == "array":
        result["items"] = inline_named(result["items"], named, seen)
    elif kind == "map":
        result["values"] = inline_named(result["values"], named, seen)
    elif not isinstance(kind, str) or kind not in PRIMITIVES:
        return inline_named(kind, named, seen)
    return result
