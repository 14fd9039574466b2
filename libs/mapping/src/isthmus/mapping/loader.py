"""Reads flow files and lookup tables (YAML/CSV text or paths) and compiles them; the only I/O."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from isthmus.mapping.definition import compile_flow
from isthmus.mapping.errors import FlowDefinitionError
from isthmus.mapping.flow import Flow
from isthmus.mapping.lookups import StaticTable, table_from_rows

_TABLE_SUFFIXES = (".csv", ".yaml", ".yml")


@lru_cache(maxsize=1)
def flow_schema() -> dict[str, Any]:
    """The JSON Schema every flow file must satisfy (shipped in the package)."""
    text = resources.files("isthmus.mapping").joinpath("flow.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def parse_flow_document(text: str, *, source: str = "<flow>") -> dict[str, Any]:
    """Parse YAML text and check it against the flow schema.

    Raises:
        FlowDefinitionError: invalid YAML or a schema violation (with the path of the field).
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FlowDefinitionError(f"not valid YAML: {exc}", source=source) from exc
    validator = jsonschema.Draft202012Validator(flow_schema())
    errors = sorted(validator.iter_errors(document), key=lambda error: list(error.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(part) for part in first.absolute_path) or "(top level)"
        error = FlowDefinitionError(_schema_message(first), source=source, field=where)
        raise error.at_line(line_of(text, where))
    if not isinstance(document, dict):  # pragma: no cover - the schema demands an object
        raise FlowDefinitionError("a flow file must be a mapping", source=source)
    return document


def _schema_message(error: jsonschema.ValidationError) -> str:
    best = jsonschema.exceptions.best_match([error, *error.context]) if error.context else error
    return best.message


def load_flow_text(text: str, *, tables: Mapping[str, StaticTable], source: str = "<flow>") -> Flow:
    """Parse, validate and compile one flow from YAML text.

    Raises:
        FlowDefinitionError: the flow is invalid; the message names source, line, field and
            position in the expression.
    """
    try:
        return compile_flow(parse_flow_document(text, source=source), tables=tables, source=source)
    except FlowDefinitionError as exc:
        if exc.line is not None or exc.field is None:
            raise
        raise exc.at_line(line_of(text, exc.field)) from None


def load_flow(path: Path, *, tables: Mapping[str, StaticTable]) -> Flow:
    """Read and compile one flow file.

    Raises:
        FlowDefinitionError: unreadable or invalid file.
    """
    return load_flow_text(_read(path), tables=tables, source=str(path))


def load_flows(directory: Path) -> dict[str, Flow]:
    """Every `*.yaml` flow of a directory, with the tables of its `lookups/` folder, by flow id.

    Raises:
        FlowDefinitionError: a flow or table is invalid, or two files declare the same id.
    """
    tables = load_tables(directory / "lookups")
    flows: dict[str, Flow] = {}
    for path in sorted(directory.glob("*.yaml")):
        flow = load_flow(path, tables=tables)
        if flow.id in flows:
            raise FlowDefinitionError(
                f"flow id {flow.id!r} also in {flows[flow.id].source}", source=str(path)
            )
        flows[flow.id] = flow
    return flows


def load_tables(directory: Path) -> dict[str, StaticTable]:
    """Every lookup table (`name.csv` or `name.yaml`) of a directory, by name (the file stem).

    Raises:
        FlowDefinitionError: a table file is malformed.
    """
    tables: dict[str, StaticTable] = {}
    if not directory.is_dir():
        return tables
    for path in sorted(directory.iterdir()):
        if path.suffix in _TABLE_SUFFIXES:
            text = _read(path)
            parse = parse_csv_table if path.suffix == ".csv" else parse_yaml_table
            tables[path.stem] = parse(text, name=path.stem, source=str(path))
    return tables


def parse_csv_table(text: str, *, name: str, source: str) -> StaticTable:
    """A table from CSV: header `from,to[,note]`, then one row per code; `#` lines are comments.

    Raises:
        FlowDefinitionError: missing header, short row or duplicate key.
    """
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    if not rows or len(rows[0]) < 2:  # noqa: PLR2004 - two columns
        raise FlowDefinitionError("a table needs a header with two column names", source=source)
    header, entries = rows[0], rows[1:]
    mapping: dict[str, str] = {}
    for number, row in enumerate(entries, start=2):
        if len(row) < 2 or row[0].strip() in mapping:  # noqa: PLR2004
            raise FlowDefinitionError(
                f"row {number} is short or repeats a key: {row}", source=source
            )
        mapping[row[0].strip()] = row[1].strip()
    return table_from_rows(
        name=name, columns=(header[0].strip(), header[1].strip()), rows=mapping, source=source
    )


def parse_yaml_table(text: str, *, name: str, source: str) -> StaticTable:
    """A table from YAML: `columns: [from, to]`, `description`, `entries: {key: value}`.

    Raises:
        FlowDefinitionError: not this shape.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FlowDefinitionError(f"not valid YAML: {exc}", source=source) from exc
    if not isinstance(document, dict) or not isinstance(document.get("entries"), dict):
        raise FlowDefinitionError("a YAML table needs `columns` and `entries`", source=source)
    columns = document.get("columns", ["from", "to"])
    rows = {str(key): str(value) for key, value in document["entries"].items()}
    return table_from_rows(
        name=name,
        columns=(str(columns[0]), str(columns[1])),
        rows=rows,
        source=source,
        description=str(document.get("description", "")),
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FlowDefinitionError(f"cannot read: {exc.strerror}", source=str(path)) from exc


def line_of(text: str, field: str) -> int | None:
    """The 1-based line of a field path (`mapping.to_Item.fields.Material`) in YAML text."""
    try:
        node: yaml.Node | None = yaml.compose(text)
    except yaml.YAMLError:
        return None
    rest = "" if field == "(top level)" else field
    while node is not None and rest:
        node, rest = _descend(node, rest)
    return None if node is None else node.start_mark.line + 1


def _descend(node: yaml.Node, rest: str) -> tuple[yaml.Node | None, str]:
    """One step down a path: the longest matching mapping key, or a list position."""
    if isinstance(node, yaml.MappingNode):
        matches = [
            (key.value, value)
            for key, value in node.value
            if rest == key.value or rest.startswith((f"{key.value}.", f"{key.value}["))
        ]
        if not matches:
            return None, rest
        key, child = max(matches, key=lambda match: len(match[0]))
        return child, rest[len(key) :].lstrip(".")
    if isinstance(node, yaml.SequenceNode):
        position, _, remainder = rest.lstrip("[").partition("]" if rest.startswith("[") else ".")
        if position.isdecimal() and int(position) < len(node.value):
            return node.value[int(position)], remainder.lstrip(".")
    return None, rest
