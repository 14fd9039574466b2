"""Avro schema resolution rules and the BACKWARD compatibility checker against a git baseline."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from isthmus.schemas.catalogue import SchemaCatalogue
from isthmus.schemas.compat import check_backward, main
from isthmus.schemas.resolution import incompatibilities

pytestmark = pytest.mark.unit


def _record(*fields: dict[str, Any], name: str = "Order") -> dict[str, Any]:
    return {"type": "record", "name": name, "namespace": "io.isthmus.t", "fields": list(fields)}


BASE = _record(
    {"name": "id", "type": "string"},
    {"name": "qty", "type": "int"},
    {"name": "note", "type": ["null", "string"], "default": None},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "B"]}},
)


def _rules(reader: Any, writer: Any) -> list[tuple[str, str]]:
    return [(p.path, p.rule) for p in incompatibilities(reader=reader, writer=writer)]


def test_identical_schemas_are_compatible() -> None:
    assert _rules(BASE, BASE) == []


def test_added_field_without_default_breaks_backward_but_not_forward() -> None:
    new = copy.deepcopy(BASE)
    new["fields"].append({"name": "plant", "type": "string"})
    assert _rules(reader=new, writer=BASE) == [("Order.plant", "field-added-without-default")]
    # the other direction (old reader, new data) just ignores the extra field
    assert _rules(reader=BASE, writer=new) == []


def test_added_field_with_default_and_removed_field_are_compatible() -> None:
    new = copy.deepcopy(BASE)
    new["fields"].append({"name": "plant", "type": ["null", "string"], "default": None})
    new["fields"] = [f for f in new["fields"] if f["name"] != "note"]
    assert _rules(reader=new, writer=BASE) == []
    # reading new data with the old reader needs note's default, which it has
    assert _rules(reader=BASE, writer=new) == []


def test_removing_a_field_without_default_breaks_forward_only() -> None:
    new = copy.deepcopy(BASE)
    new["fields"] = [f for f in new["fields"] if f["name"] != "qty"]
    assert _rules(reader=new, writer=BASE) == []
    assert _rules(reader=BASE, writer=new) == [("Order.qty", "field-added-without-default")]


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("int", "long", True),
        ("int", "double", True),
        ("long", "float", True),
        ("string", "bytes", True),
        ("long", "int", False),
        ("double", "float", False),
        ("string", "int", False),
    ],
)
def test_type_changes_follow_the_promotion_rules(old: str, new: str, ok: bool) -> None:
    writer = _record({"name": "qty", "type": old})
    reader = _record({"name": "qty", "type": new})
    assert _rules(reader, writer) == ([] if ok else [("Order.qty", "type-changed")])


def test_unions_enums_arrays_and_decimals() -> None:
    writer = _record(
        {"name": "n", "type": ["null", "string"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
        {"name": "xs", "type": {"type": "array", "items": "int"}},
        {
            "name": "d",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
    )
    reader = _record(
        {"name": "n", "type": "string"},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A"]}},
        {"name": "xs", "type": {"type": "array", "items": "string"}},
        {
            "name": "d",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3},
        },
    )
    assert _rules(reader, writer) == [
        ("Order.n", "type-changed"),
        ("Order.e", "enum-symbol-removed"),
        ("Order.xs[]", "type-changed"),
        ("Order.d", "decimal-narrowed"),
    ]
    widened = _record({"name": "n", "type": ["null", "string", "int"], "default": None})
    assert _rules(widened, _record({"name": "n", "type": ["null", "string"]})) == []


def test_renamed_record_needs_an_alias() -> None:
    renamed = {**BASE, "name": "SalesOrder"}
    assert _rules(renamed, BASE) == [("SalesOrder", "name-changed")]
    assert _rules({**renamed, "aliases": ["io.isthmus.t.Order"]}, BASE) == []


def test_catalogue_check_names_schema_field_and_rule() -> None:
    old = SchemaCatalogue.from_sources({"Order.avsc": json.dumps(BASE)})
    changed = copy.deepcopy(BASE)
    changed["fields"][1]["type"] = "string"
    new = SchemaCatalogue.from_sources(
        {"Order.avsc": json.dumps(changed), "New.avsc": json.dumps(_record(name="New"))}
    )
    report = check_backward(baseline=old, current=new)
    assert not report.compatible
    assert report.added == ["io.isthmus.t.New"]
    assert report.lines() == [
        "io.isthmus.t.Order: Order.qty: type int cannot be read as string (only Avro promotions "
        "int>long>float>double and string<>bytes are allowed) [rule type-changed]"
    ]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def _commit(repo: Path, schema: dict[str, Any], message: str) -> None:
    (repo / "schemas").mkdir(exist_ok=True)
    (repo / "schemas" / "Order.avsc").write_text(json.dumps(schema))
    _git(repo, "add", "schemas")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", message)


def test_command_line_against_git_baseline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _git(tmp_path, "init", "-q", "-b", "main")
    _commit(tmp_path, BASE, "first")
    # a single commit has no previous one: every schema is new and passes
    assert main(["--repo", str(tmp_path)]) == 0
    compatible = copy.deepcopy(BASE)
    compatible["fields"].append({"name": "plant", "type": ["null", "string"], "default": None})
    _commit(tmp_path, compatible, "compatible")
    assert main(["--repo", str(tmp_path)]) == 0
    # archiving stores the previous version; the check ignores stored versions
    assert main(["--repo", str(tmp_path), "--archive"]) == 0
    archived = list((tmp_path / "schemas" / "versions").glob("io.isthmus.t.Order.*.avsc"))
    assert len(archived) == 1
    _git(tmp_path, "add", "schemas")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "v")
    assert main(["--repo", str(tmp_path), "--baseline", "main"]) == 0
    breaking = copy.deepcopy(compatible)
    breaking["fields"].append({"name": "batch", "type": "string"})
    (tmp_path / "schemas" / "Order.avsc").write_text(json.dumps(breaking))
    assert main(["--repo", str(tmp_path), "--baseline", "main"]) == 1
    err = capsys.readouterr().err
    assert "io.isthmus.t.Order: Order.batch" in err
    assert "field-added-without-default" in err
