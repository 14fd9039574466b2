"""The Avro catalogue: every ``schemas/**/*.avsc`` parsed once, looked up by name or fingerprint."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import Any, cast

from fastavro import parse_schema
from fastavro.schema import SchemaParseException, UnknownType, to_parsing_canonical_form

from isthmus.schemas.errors import CatalogueError, UnknownFingerprintError, UnknownSchemaNameError
from isthmus.schemas.fingerprint import schema_fingerprint
from isthmus.schemas.naming import Json, inline_named, walk_names

logger = logging.getLogger(__name__)

VERSIONS_FOLDER = "versions"
"""Subfolder of older, self-contained schema versions, kept so old records stay readable."""


@dataclass(frozen=True)
class CatalogueSchema:
    """One named type of the catalogue, self-contained (named types it uses are inlined).

    Attributes:
        name: full Avro name, e.g. ``io.isthmus.d365.SalesOrderEvent``.
        source: the file that defines it.
        parsed: the fastavro-parsed schema, ready for ``schemaless_writer/reader``.
        text: the self-contained schema as JSON, as registered with a schema registry.
        canonical: Parsing Canonical Form.
        fingerprint: CRC-64-AVRO of ``canonical`` (unsigned 64-bit integer).
    """

    name: str
    source: str
    parsed: Any = field(repr=False)
    text: str = field(repr=False)
    canonical: str = field(repr=False)
    fingerprint: int

    @property
    def fingerprint_bytes(self) -> bytes:
        """The fingerprint as single-object encoding writes it (8 bytes, little-endian)."""
        return self.fingerprint.to_bytes(8, "little")


class SchemaCatalogue:
    """Every named type of a set of ``.avsc`` files, validated together at start-up."""

    def __init__(self, schemas: Mapping[str, CatalogueSchema]) -> None:
        self._by_name = dict(schemas)
        self._by_fingerprint = {schema.fingerprint: schema for schema in schemas.values()}

    @classmethod
    def load(cls, directory: Path) -> SchemaCatalogue:
        """Load and validate every ``*.avsc`` below ``directory``.

        Raises:
            CatalogueError: a file is unreadable, not valid Avro, defines a name twice, or uses a
                name no file defines (the message names the file).
        """
        if not directory.is_dir():
            raise CatalogueError(f"schema folder {directory} does not exist")
        sources = {
            str(path.relative_to(directory)): path.read_text(encoding="utf-8")
            for path in sorted(directory.rglob("*.avsc"))
            if path.relative_to(directory).parts[0] != VERSIONS_FOLDER
        }
        versions = [
            _version(f"{VERSIONS_FOLDER}/{path.name}", path.read_text(encoding="utf-8"))
            for path in sorted((directory / VERSIONS_FOLDER).glob("*.avsc"))
        ]
        return cls.from_sources(sources).with_versions(versions)

    @classmethod
    def from_sources(cls, sources: Mapping[str, str]) -> SchemaCatalogue:
        """Build a catalogue from ``{file name: JSON text}`` (files on disk or at a git revision).

        Raises:
            CatalogueError: as for ``load``.
        """
        raw = {source: _read_json(source, text) for source, text in sources.items()}
        defined, order = _dependency_order(raw)
        named: dict[str, Any] = {}
        for source in order:
            try:
                parse_schema(raw[source], named_schemas=named)
            except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError) as exc:
                raise CatalogueError(f"{source}: invalid Avro schema: {exc}") from exc
        schemas = {name: _standalone(name, source, named) for name, source in defined.items()}
        logger.debug("loaded %d Avro types from %d files", len(schemas), len(sources))
        return cls(schemas)

    def with_versions(self, older: Iterable[CatalogueSchema]) -> SchemaCatalogue:
        """A catalogue that also resolves ``older`` versions by fingerprint (as writer schemas).

        Lookups by name keep returning the current versions; records written with an older
        version in single-object encoding stay readable after the schema evolved.
        """
        catalogue = SchemaCatalogue(self._by_name)
        for schema in older:
            catalogue._by_fingerprint.setdefault(schema.fingerprint, schema)
        return catalogue

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[CatalogueSchema]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    @property
    def names(self) -> list[str]:
        """Every full name, sorted."""
        return sorted(self._by_name)

    def get(self, name: str) -> CatalogueSchema:
        """The schema with full Avro name ``name``.

        Raises:
            UnknownSchemaNameError: no file defines that name.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSchemaNameError(f"no Avro type {name!r} in the catalogue") from None

    def by_fingerprint(self, fingerprint: int) -> CatalogueSchema:
        """The schema whose CRC-64-AVRO fingerprint is ``fingerprint``.

        Raises:
            UnknownFingerprintError: no schema of the catalogue has that fingerprint.
        """
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise UnknownFingerprintError(
                f"no schema with CRC-64-AVRO fingerprint {fingerprint:#018x} in the catalogue"
            ) from None


def _read_json(source: str, text: str) -> Json:
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogueError(f"{source}: not JSON: {exc}") from exc
    if not isinstance(schema, dict) or "name" not in schema:
        raise CatalogueError(f"{source}: the top level must be one named type (record/enum/fixed)")
    return schema


def _dependency_order(raw: Mapping[str, Json]) -> tuple[dict[str, str], list[str]]:
    """Map each defined full name to its file and order files so dependencies come first."""
    defined: dict[str, str] = {}
    uses: dict[str, set[str]] = {}
    for source, schema in raw.items():
        uses[source] = set()
        for role, name in _names(source, schema):
            if role == "uses":
                uses[source].add(name)
            elif name in defined:
                raise CatalogueError(f"{source}: {name} is already defined in {defined[name]}")
            else:
                defined[name] = source
    graph: dict[str, set[str]] = {}
    for source, names in uses.items():
        missing = sorted(name for name in names if name not in defined)
        if missing:
            raise CatalogueError(f"{source}: uses undefined type(s) {', '.join(missing)}")
        graph[source] = {defined[name] for name in names} - {source}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise CatalogueError(
            f"schema files reference each other in a cycle: {exc.args[1]}"
        ) from exc
    return defined, order


def _names(source: str, schema: Json) -> list[tuple[str, str]]:
    try:
        return list(walk_names(schema))
    except (KeyError, TypeError, AttributeError) as exc:
        raise CatalogueError(f"{source}: invalid Avro schema: missing or wrong {exc}") from exc


def _version(source: str, text: str) -> CatalogueSchema:
    """A stored older version: one self-contained schema (named types inlined)."""
    schema = _read_json(source, text)
    try:
        parsed = cast(dict[str, Any], parse_schema(schema, named_schemas={}))
    except (SchemaParseException, UnknownType, ValueError, TypeError, KeyError) as exc:
        raise CatalogueError(f"{source}: invalid Avro schema: {exc}") from exc
    return _standalone(parsed["name"], source, parsed["__named_schemas"])


def _standalone(name: str, source: str, named: Mapping[str, Any]) -> CatalogueSchema:
    expanded = inline_named(name, named)
    parsed = parse_schema(expanded, named_schemas={})
    canonical = to_parsing_canonical_form(parsed)
    return CatalogueSchema(
        name=name,
        source=source,
        parsed=parsed,
        text=json.dumps(expanded, separators=(",", ":")),
        canonical=canonical,
        fingerprint=schema_fingerprint(canonical),
    )
