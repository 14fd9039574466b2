"""The catalogue: topic contract, cross-file named types, and invalid files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isthmus.kafka.catalogue import load_catalogue
from isthmus.schemas import CatalogueError, SchemaCatalogue, UnknownSchemaNameError
from isthmus.schemas.catalogue import VERSIONS_FOLDER

pytestmark = pytest.mark.unit


def test_every_topic_value_schema_is_in_the_catalogue(
    repo_root: Path, catalogue: SchemaCatalogue
) -> None:
    topics = load_catalogue(repo_root / "deploy" / "topics.yaml")
    named = {topic.value_schema for topic in topics if topic.value_schema}
    assert named, "the topic catalogue names no value schemas"
    missing = sorted(name for name in named if name not in catalogue)
    assert missing == []
    for name in named:
        assert catalogue.get(name).parsed["type"] == "record"


def test_every_schema_is_one_named_type_per_file_with_docs(repo_root: Path) -> None:
    folder = repo_root / "schemas"
    for path in sorted(folder.rglob("*.avsc")):
        if path.relative_to(folder).parts[0] == VERSIONS_FOLDER:
            continue  # archived older versions, named <type>.<fingerprint>.avsc
        raw = json.loads(path.read_text())
        assert path.stem == raw["name"], path
        assert raw["namespace"].startswith("io.isthmus."), path
        for field in raw.get("fields", ()):
            assert field.get("doc"), f"{path}: field {field['name']} has no doc"


def test_shared_types_are_inlined_once_and_fingerprints_are_unique(
    catalogue: SchemaCatalogue,
) -> None:
    event = catalogue.get("io.isthmus.d365.SalesOrderEvent")
    assert event.text.count('"name":"io.isthmus.common.EventEnvelope"') == 1
    assert len({schema.fingerprint for schema in catalogue}) == len(catalogue)
    assert catalogue.by_fingerprint(event.fingerprint) is event


def _load(**files: object) -> SchemaCatalogue:
    return SchemaCatalogue.from_sources(
        {name: text if isinstance(text, str) else json.dumps(text) for name, text in files.items()}
    )


REC = {"type": "record", "name": "A", "namespace": "io.isthmus.t", "fields": []}


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"a.avsc": "{not json"}, "a.avsc: not JSON"),
        ({"a.avsc": ["string"]}, "a.avsc: the top level must be one named type"),
        (
            {"a.avsc": {**REC, "fields": [{"name": "b", "type": "io.isthmus.t.B"}]}},
            "a.avsc: uses undefined type(s) io.isthmus.t.B",
        ),
        ({"a.avsc": REC, "b.avsc": REC}, "io.isthmus.t.A is already defined in a.avsc"),
        ({"a.avsc": {**REC, "fields": [{"name": "x", "type": "strin"}]}}, "undefined type"),
        ({"a.avsc": {**REC, "fields": [{"name": "x"}]}}, "a.avsc: invalid Avro schema"),
    ],
)
def test_invalid_files_are_reported_with_their_name(files: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _load(**files)


def test_named_types_resolve_across_files_in_any_order() -> None:
    b = {"type": "record", "name": "B", "namespace": "io.isthmus.t", "fields": []}
    a = {**REC, "fields": [{"name": "b", "type": "B"}, {"name": "c", "type": ["null", "B"]}]}
    catalogue = _load(**{"0-a.avsc": a, "1-b.avsc": b})
    assert catalogue.names == ["io.isthmus.t.A", "io.isthmus.t.B"]
    with pytest.raises(UnknownSchemaNameError):
        catalogue.get("io.isthmus.t.C")


def test_archived_versions_resolve_as_writers_of_their_current_type(repo_root: Path) -> None:
    folder = repo_root / "schemas"
    catalogue = SchemaCatalogue.load(folder)
    for path in sorted((folder / VERSIONS_FOLDER).glob("*.avsc")):
        name, _, fingerprint = path.stem.rpartition(".")
        old = catalogue.by_fingerprint(int(fingerprint, 16))
        assert old.name == name, path
        assert catalogue.get(name).fingerprint != old.fingerprint, path
