"""Reader schemas projected to the fields a consumer reads, so the decoder skips the rest.

Avro schema resolution ignores writer fields the reader schema leaves out: fastavro skips their
bytes without building their values (no ``Decimal`` or ``datetime`` for a field nobody reads).
A projection keeps every type's name, so it still resolves against each writer version the full
schema resolves against.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastavro import parse_schema
from fastavro.schema import to_parsing_canonical_form

from isthmus.schemas.catalogue import CatalogueSchema
from isthmus.schemas.fingerprint import schema_fingerprint
from isthmus.schemas.naming import Json, full_name, walk_names

Tree = dict[str, Any]
_WHOLE: Tree = {}  # a path read as a whole value: its type is kept as it is


def read_tree(paths: Iterable[str]) -> Tree:
    """``{"data": {"lines": {"qty": WHOLE}}}`` from dotted paths (a shorter path wins)."""
    tree: Tree = {}
    for path in sorted(paths, key=lambda p: p.count(".")):
        node = tree
        *parents, leaf = path.split(".")
        for name in parents:
            child = node.setdefault(name, {})
            if child is _WHOLE:
                break
            node = child
        else:
            node[leaf] = _WHOLE
    return tree


def project(schema: Json, paths: Iterable[str]) -> Json:
    """``schema`` with only the record fields on one of ``paths`` (dotted, from the root).

    A path ending at a record, list or map keeps all of it; paths through lists and maps name
    the fields of their items (``data.lines.qty``). Records another part of the schema refers to
    by name are kept whole, as are names the schema does not have.
    """
    referenced = {name for kind, name in walk_names(schema) if kind == "uses"}
    return _project(schema, read_tree(paths), None, referenced)


def projected(schema: CatalogueSchema, paths: Iterable[str]) -> CatalogueSchema:
    """A catalogue schema read as ``project(schema, paths)``: same name, fewer fields."""
    reader = project(json.loads(schema.text), paths)
    parsed = parse_schema(reader, named_schemas={})
    canonical = to_parsing_canonical_form(parsed)
    return CatalogueSchema(
        name=schema.name,
        source=schema.source,
        parsed=parsed,
        text=json.dumps(reader, separators=(",", ":")),
        canonical=canonical,
        fingerprint=schema_fingerprint(canonical),
    )


def _project(  # noqa: PLR0911 - one return per Avro type family
    schema: Json, tree: Tree, namespace: str | None, referenced: set[str]
) -> Json:
    if tree is _WHOLE or isinstance(schema, str):
        return schema  # a primitive, or a named type used by reference (defined whole)
    if isinstance(schema, list):
        return [_project(branch, tree, namespace, referenced) for branch in schema]
    kind = schema.get("type")
    if kind == "array":
        return {**schema, "items": _project(schema["items"], tree, namespace, referenced)}
    if kind == "map":
        return {**schema, "values": _project(schema["values"], tree, namespace, referenced)}
    if kind not in ("record", "error"):
        return schema
    name = full_name(schema["name"], schema.get("namespace", namespace))
    if name in referenced:
        return schema
    inner = name.rpartition(".")[0] or None
    fields = [
        {**field, "type": _project(field["type"], tree[field["name"]], inner, referenced)}
        for field in schema["fields"]
        if field["name"] in tree
    ]
    return {**schema, "fields": fields}


__all__ = ["project", "projected", "read_tree"]
