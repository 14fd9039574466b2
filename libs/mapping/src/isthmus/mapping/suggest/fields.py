"""Field descriptions for suggestions, read from Avro schema dicts (plain JSON, no Avro library)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

_LOGICAL = {
    "date": "date",
    "timestamp-millis": "datetime",
    "timestamp-micros": "datetime",
    "time-millis": "time",
    "time-micros": "time",
    "decimal": "decimal",
    "uuid": "string",
}
_PRIMITIVE = {"long": "int", "float": "decimal", "double": "decimal", "bytes": "string"}


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One leaf field: its path (`data.order_details[*].quantity`), canonical type and doc."""

    path: str
    type: str
    doc: str = ""

    @property
    def name(self) -> str:
        """The last segment of the path (`quantity`)."""
        return self.path.rsplit(".", 1)[-1].removesuffix("[*]")


def fields_from_avro(schema: Mapping[str, Any], *, prefix: str = "") -> list[FieldInfo]:
    """Every leaf field of an Avro record schema, nested records and arrays flattened.

    Named types defined earlier in the same schema are resolved; references to types defined
    elsewhere are reported with type `object`.
    """
    return list(_walk(schema, prefix, {}))


def _walk(schema: Any, path: str, named: dict[str, Any]) -> Iterator[FieldInfo]:
    for field in schema.get("fields", []):
        child = f"{path}.{field['name']}" if path else field["name"]
        yield from _leaf(field["type"], child, str(field.get("doc", "")), named)


def _leaf(kind: Any, path: str, doc: str, named: dict[str, Any]) -> Iterator[FieldInfo]:
    if isinstance(kind, list):
        present = [option for option in kind if option != "null"]
        yield from _leaf(present[0] if len(present) == 1 else "string", path, doc, named)
        return
    if isinstance(kind, str):
        if kind in named:
            yield from _leaf(named[kind], path, doc, named)
            return
        yield FieldInfo(path, _PRIMITIVE.get(kind, kind if kind in _SCALARS else "object"), doc)
        return
    yield from _complex(kind, path, doc, named)


_SCALARS = frozenset({"string", "int", "boolean", "decimal", "date", "datetime", "time"})


def _complex(
    kind: Mapping[str, Any], path: str, doc: str, named: dict[str, Any]
) -> Iterator[FieldInfo]:
    if "name" in kind and kind.get("type") in ("record", "enum", "fixed"):
        named[kind["name"]] = kind
        if "namespace" in kind:
            named[f"{kind['namespace']}.{kind['name']}"] = kind
    logical = kind.get("logicalType")
    if logical in _LOGICAL:
        yield FieldInfo(path, _LOGICAL[logical], doc)
    elif kind.get("type") == "record":
        yield from _walk(kind, path, named)
    elif kind.get("type") == "array":
        yield from _leaf(kind["items"], f"{path}[*]", doc, named)
    elif kind.get("type") == "enum":
        yield FieldInfo(path, "enum", doc)
    else:
        yield from _leaf(kind.get("type", "string"), path, doc, named)
