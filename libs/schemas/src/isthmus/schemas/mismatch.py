"""Find the field of a record that does not match its schema, as a dotted path from the root."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastavro.validation import validate

from isthmus.schemas.naming import NAMED_KINDS, PRIMITIVES


def mismatched_field(value: Any, parsed: Any) -> str | None:
    """The path (``data.order_details[0].quantity``) of the first value that does not fit.

    ``parsed`` is a fastavro-parsed, self-contained schema. Returns ``None`` when every value
    fits (the problem is then elsewhere, e.g. a value fastavro cannot encode at all).
    """
    named: Mapping[str, Any] = parsed.get("__named_schemas", {}) if isinstance(parsed, dict) else {}
    return _locate(value, parsed, named, "")


def _locate(value: Any, schema: Any, named: Mapping[str, Any], path: str) -> str | None:
    if isinstance(schema, str) and schema not in PRIMITIVES:
        schema = named.get(schema, schema)
    if isinstance(schema, list):
        fits = any(_locate(value, branch, named, path) is None for branch in schema)
        return None if fits else path or "<root>"
    kind = schema.get("type") if isinstance(schema, dict) else None
    if kind in ("record", "error"):
        return _record(value, schema, named, path)
    if kind in ("array", "map"):
        return _container(value, schema, named, path)
    return None if _leaf_fits(value, schema) else path or "<root>"


def _container(
    value: Any, schema: dict[str, Any], named: Mapping[str, Any], path: str
) -> str | None:
    if schema["type"] == "array":
        if not isinstance(value, list | tuple):
            return path or "<root>"
        items = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
        inner = schema["items"]
    else:
        if not isinstance(value, Mapping):
            return path or "<root>"
        items = [(f"{path}[{key!r}]", item) for key, item in value.items()]
        inner = schema["values"]
    for where, item in items:
        found = _locate(item, inner, named, where)
        if found:
            return found
    return None


def _record(value: Any, schema: dict[str, Any], named: Mapping[str, Any], path: str) -> str | None:
    if not isinstance(value, Mapping):
        return path or "<root>"
    for field in schema["fields"]:
        name = field["name"]
        if name not in value and "default" in field:
            continue
        found = _locate(value.get(name), field["type"], named, f"{path}.{name}" if path else name)
        if found:
            return found
    return None


def _leaf_fits(value: Any, schema: Any) -> bool:
    if isinstance(schema, dict) and schema.get("type") in NAMED_KINDS:
        schema = {key: item for key, item in schema.items() if not key.startswith("__")}
    try:
        return bool(validate(value, schema, raise_errors=False))
    except Exception:  # fastavro's logical-type writers raise on values they cannot prepare
        return False
