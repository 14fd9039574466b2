"""Flow files: schema validation, error messages that point at the problem, triggers, ownership."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from isthmus.mapping import (
    Flow,
    FlowDefinitionError,
    InMemoryLookups,
    StaticTable,
    load_flow,
    load_flow_text,
    load_flows,
)
from isthmus.mapping.functions.registry import builtins
from isthmus.mapping.loader import flow_schema

FLOWS = Path(__file__).resolve().parents[3] / "flows"
MakeFlow = Callable[..., Flow]

MINIMAL = """\
id: minimal
version: 2
trigger: {system: d365, topic: d365.account.events, event_types: "Create"}
target: {system: s4, topic: s4.businesspartner.commands, command_type: T}
mapping:
  Name: name
"""


def test_the_schema_in_flows_is_the_one_the_loader_uses() -> None:
    assert json.loads((FLOWS / "flow.schema.json").read_text()) == flow_schema()


def test_minimal_flow(tables: dict[str, StaticTable]) -> None:
    flow = load_flow_text(MINIMAL, tables=tables)
    assert (flow.id, flow.version, flow.enabled) == ("minimal", 2, True)
    assert flow.trigger.event_types == ("Create",)
    assert flow.apply({"name": "Contoso"}, InMemoryLookups()).unwrap() == {"Name": "Contoso"}
    assert flow.key({"name": "x"}) is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("version: 2", "version: zero"), "version", "'zero' is not of type 'integer'"),
        (("id: minimal", "id: Minimal Flow"), "id", "does not match"),
        (("system: d365", "system: sap"), "trigger.system", "is not one of"),
        (("  Name: name", "  Name: 42"), "mapping.Name", ""),
        (("mapping:", "mappings:"), "(top level)", ""),
    ],
)
def test_schema_violations_name_the_field(
    tables: dict[str, StaticTable], change: tuple[str, str], field: str, message: str
) -> None:
    text = MINIMAL.replace(*change)
    with pytest.raises(FlowDefinitionError) as caught:
        load_flow_text(text, tables=tables, source="flows/minimal.yaml")
    assert caught.value.source == "flows/minimal.yaml"
    assert caught.value.field == field
    line = next(n for n, text_line in enumerate(text.splitlines(), 1) if change[1] in text_line)
    assert caught.value.line == (1 if field == "(top level)" else line)
    assert message in caught.value.reason


def test_yaml_errors_are_flow_definition_errors(tables: dict[str, StaticTable]) -> None:
    with pytest.raises(FlowDefinitionError, match="not valid YAML"):
        load_flow_text("id: [unclosed", tables=tables)


def test_expression_errors_point_at_file_field_and_column(tables: dict[str, StaticTable]) -> None:
    text = MINIMAL.replace("  Name: name", '  Name: "upper(name) &"')
    with pytest.raises(FlowDefinitionError) as caught:
        load_flow_text(text, tables=tables, source="flows/minimal.yaml")
    assert str(caught.value).splitlines() == [
        "flows/minimal.yaml:6: mapping.Name: expected a value, field or function, "
        "found end of expression",
        "    upper(name) &",
        "                 ^",
    ]


def test_nested_expression_errors_name_the_nested_field(make_flow: MakeFlow) -> None:
    with pytest.raises(FlowDefinitionError) as caught:
        make_flow({"to_Item": {"each": "lines", "fields": {"Material": "to_int(", "X": "1"}}})
    assert caught.value.field == "mapping.to_Item.fields.Material"


def test_load_flows_reads_a_directory_and_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "lookups").mkdir()
    (tmp_path / "lookups" / "uom.csv").write_text("d365,s4\nPiece,PC\n")
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("Name: name", "Unit: \"lookup('uom', u)\""))
    flows = load_flows(tmp_path)
    assert flows["minimal"].apply({"u": "Piece"}, InMemoryLookups()).unwrap() == {"Unit": "PC"}
    (tmp_path / "b.yaml").write_text(MINIMAL)
    with pytest.raises(FlowDefinitionError, match="also in"):
        load_flows(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(FlowDefinitionError, match="cannot read"):
        load_flow(tmp_path / "missing.yaml", tables={})


PRODUCT_EVENTS = {
    "system": "s4",
    "topic": "s4.product.events",
    "event_types": ["sap.s4.beh.product.v1.Product.*"],
}
OPEN_RECORDS = {
    "system": "d365",
    "topic": "t",
    "event_types": ["Create"],
    "condition": "statecode = 0",
}


@pytest.mark.parametrize(
    ("trigger", "event_type", "record", "matches"),
    [
        pytest.param(
            PRODUCT_EVENTS,
            "sap.s4.beh.product.v1.Product.Changed.v1",
            {},
            True,
            id="event_type_pattern_matches",
        ),
        pytest.param(
            PRODUCT_EVENTS,
            "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1",
            {},
            False,
            id="event_type_pattern_rejects_other_types",
        ),
        pytest.param(OPEN_RECORDS, "Create", {"statecode": 0}, True, id="condition_holds"),
        pytest.param(OPEN_RECORDS, "Create", {"statecode": 1}, False, id="condition_fails"),
        pytest.param(OPEN_RECORDS, "Create", {}, False, id="condition_field_missing"),
    ],
)
def test_trigger(
    make_flow: MakeFlow,
    trigger: dict[str, object],
    event_type: str,
    record: dict[str, object],
    matches: bool,
) -> None:
    flow = make_flow({"A": "a"}, trigger=trigger)
    assert flow.matches(event_type, record) is matches


def test_fields_owned_by_the_target_system_are_withheld(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {"name": "n", "emailaddress1": "e", "telephone1": "t"},
        trigger={"system": "s4", "topic": "t", "event_types": ["*"]},
        target={"system": "d365", "topic": "d365.account.commands", "command_type": "T"},
        ownership={"default": "shared", "fields": {"emailaddress1": "d365", "name": "s4"}},
    )
    result = flow.apply({"n": "Contoso", "e": "a@b.example", "t": "1"}, InMemoryLookups())
    assert result.target == {"name": "Contoso", "telephone1": "1"}
    assert result.withheld == ("emailaddress1",)


def test_loop_prevention_by_origin(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {"A": "a"},
        loop_prevention={"origin": "modifiedby", "ignore_origins": ["ISTHMUS"]},
    )
    assert flow.matches("Create", {"modifiedby": "alice"})
    assert not flow.matches("Create", {"modifiedby": "ISTHMUS"})
    assert not flow.matches("Create", {"modifiedby": "app-user-7"}, ignore_origins={"app-user-7"})


def test_loop_prevention_takes_only_origin_settings(make_flow: MakeFlow) -> None:
    with pytest.raises(FlowDefinitionError) as caught:
        make_flow({"A": "a"}, loop_prevention={"fingerprint": ["A"]})
    assert caught.value.field == "loop_prevention"
    assert "'fingerprint' was unexpected" in caught.value.reason


def test_disabled_flow(tables: dict[str, StaticTable]) -> None:
    assert not load_flow_text(MINIMAL + "enabled: false\n", tables=tables).enabled


def test_the_readme_example_is_a_valid_flow_and_documents_every_function(
    tables: dict[str, StaticTable],
) -> None:
    readme = (FLOWS / "README.md").read_text()
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    flow = load_flow_text(example, tables=tables, source="flows/README.md")
    assert flow.id == "d365-salesorder-to-s4"
    for name in builtins():
        assert f"`{name}" in readme, name
