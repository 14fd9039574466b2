"""Avro schema resolution rules (specification, "Schema Resolution"), in pure Python.

``incompatibilities(reader=..., writer=...)`` lists every reason data written with ``writer``
cannot be read with ``reader``. BACKWARD compatibility of a new schema means: the new schema as
reader can read data written with the old one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from isthmus.schemas.naming import NAMED_KINDS, PRIMITIVES

PROMOTIONS: dict[str, frozenset[str]] = {
    "int": frozenset({"long", "float", "double"}),
    "long": frozenset({"float", "double"}),
    "float": frozenset({"double"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
"""Writer type -> reader types it may be promoted to."""


@dataclass(frozen=True)
class Incompatibility:
    """One reason a writer schema cannot be read with a reader schema.

    Attributes:
        path: where, e.g. ``SalesOrderEvent.order.lines[].quantity``.
        rule: short rule id, e.g. ``field-added-without-default``, ``type-changed``.
        message: what changed, in words.
    """

    path: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [rule {self.rule}]"


def incompatibilities(*, reader: Any, writer: Any) -> list[Incompatibility]:
    """Every reason data written with ``writer`` cannot be read with ``reader``.

    Both are schemas as JSON (or fastavro-parsed); named types may be referenced by full name
    after their first definition.
    """
    checker = _Checker(_definitions(reader), _definitions(writer))
    return list(checker.check(reader, writer, _short(_name_of(reader) or "value")))


def _definitions(schema: Any, found: dict[str, Any] | None = None) -> dict[str, Any]:
    found = {} if found is None else found
    if isinstance(schema, list):
        for branch in schema:
            _definitions(branch, found)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in NAMED_KINDS:
            found.setdefault(_full(schema), schema)
            for field in schema.get("fields", ()):
                _definitions(field["type"], found)
        elif kind == "array":
            _definitions(schema["items"], found)
        elif kind == "map":
            _definitions(schema["values"], found)
    return found


def _full(schema: dict[str, Any]) -> str:
    name = str(schema["name"])
    namespace = schema.get("namespace")
    return f"{namespace}.{name}" if namespace and "." not in name else name


def _name_of(schema: Any) -> str | None:
    return _full(schema) if isinstance(schema, dict) and "name" in schema else None


def _short(name: str) -> str:
    return name.rpartition(".")[2]


def _kind(schema: Any) -> str:
    if isinstance(schema, list):
        return "union"
    if isinstance(schema, str):
        return schema
    kind = schema["type"]
    return kind if isinstance(kind, str) else _kind(kind)


class _Checker:
    def __init__(self, reader_named: dict[str, Any], writer_named: dict[str, Any]) -> None:
        self._reader_named = reader_named
        self._writer_named = writer_named

    def _deref(self, schema: Any, named: dict[str, Any]) -> Any:
        if isinstance(schema, str) and schema not in PRIMITIVES:
            return named.get(schema, schema)
        if isinstance(schema, dict) and not isinstance(schema["type"], str):
            return self._deref(schema["type"], named)
        return schema

    def check(self, reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
        reader = self._deref(reader, self._reader_named)
        writer = self._deref(writer, self._writer_named)
        if isinstance(writer, list):
            # every type the writer may have written must be readable
            for branch in writer:
                yield from self.check(reader, branch, path)
        elif isinstance(reader, list):
            if any(not list(self.check(branch, writer, path)) for branch in reader):
                return
            label = _name_of(writer) or _kind(writer)
            yield Incompatibility(
                path, "union-branch-missing", f"no branch of the reader union reads {label}"
            )
        else:
            yield from self._same_shape(reader, writer, path)

    def _same_shape(self, reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
        r_kind, w_kind = _kind(reader), _kind(writer)
        if r_kind != w_kind:
            if r_kind not in PROMOTIONS.get(w_kind, frozenset()):
                yield Incompatibility(
                    path, "type-changed", f"type {w_kind} cannot be read as {r_kind} "
                    "(only Avro promotions int>long>float>double and string<>bytes are allowed)",
                )  # fmt: skip
            return
        if r_kind in ("record", "error"):
            yield from self._records(reader, writer, path)
        elif r_kind == "enum":
            yield from self._enums(reader, writer, path)
        elif r_kind == "fixed":
            yield from self._fixed(reader, writer, path)
        elif r_kind == "array":
            yield from self.check(reader["items"], writer["items"], f"{path}[]")
        elif r_kind == "map":
            yield from self.check(reader["values"], writer["values"], f"{path}{{}}")
        else:
            yield from _decimal(reader, writer, path)

    def _names_match(self, reader: dict[str, Any], writer: dict[str, Any]) -> bool:
        aliases = {str(alias) for alias in reader.get("aliases", ())}
        writer_name = _full(writer)
        return (
            writer_name == _full(reader) or writer_name in aliases or _short(writer_name) in aliases
        )

    def _records(self, reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
        if not self._names_match(reader, writer):
            yield Incompatibility(
                path, "name-changed", f"record {_full(writer)} cannot be read as {_full(reader)}"
            )
            return
        written = {field["name"]: field for field in writer["fields"]}
        for field in reader["fields"]:
            names = [field["name"], *field.get("aliases", ())]
            match = next((written[name] for name in names if name in written), None)
            where = f"{path}.{field['name']}"
            if match is not None:
                yield from self.check(field["type"], match["type"], where)
            elif "default" not in field:
                yield Incompatibility(
                    where, "field-added-without-default",
                    f"field {field['name']!r} is new in the reader and has no default, "
                    "so data written before it cannot be read",
                )  # fmt: skip

    def _enums(self, reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
        if not self._names_match(reader, writer):
            yield Incompatibility(
                path, "name-changed", f"enum {_full(writer)} cannot be read as {_full(reader)}"
            )
            return
        missing = [s for s in writer["symbols"] if s not in reader["symbols"]]
        if missing and "default" not in reader:
            yield Incompatibility(
                path, "enum-symbol-removed",
                f"symbols {', '.join(missing)} were removed and the enum has no default",
            )  # fmt: skip

    def _fixed(self, reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
        if not self._names_match(reader, writer):
            yield Incompatibility(path, "name-changed", f"fixed {_full(writer)} renamed")
        elif reader["size"] != writer["size"]:
            yield Incompatibility(
                path, "fixed-size-changed", f"fixed size {writer['size']} -> {reader['size']}"
            )


def _decimal(reader: Any, writer: Any, path: str) -> Iterator[Incompatibility]:
    """Decimal scale and precision are part of the value's meaning: a change is incompatible."""
    if not (isinstance(reader, dict) and isinstance(writer, dict)):
        return
    if reader.get("logicalType") != "decimal" or writer.get("logicalType") != "decimal":
        return
    before = (writer.get("precision"), writer.get("scale", 0))
    after = (reader.get("precision"), reader.get("scale", 0))
    if after[1] != before[1] or (after[0] or 0) < (before[0] or 0):
        yield Incompatibility(
            path, "decimal-narrowed",
            f"decimal({before[0]},{before[1]}) cannot be read as decimal({after[0]},{after[1]})",
        )  # fmt: skip
