"""Lookups never invent a value: a miss is a violation or a declared default."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from isthmus.mapping import Flow, FlowDefinitionError, InMemoryLookups, LookupMissError, StaticTable
from isthmus.mapping.loader import parse_csv_table, parse_yaml_table

MakeFlow = Callable[..., Flow]


def test_static_miss_is_a_violation_naming_table_and_key(make_flow: MakeFlow) -> None:
    flow = make_flow({"Unit": "lookup('uom', uomname)", "Other": "uomname"})
    result = flow.apply({"uomname": "Barrel"}, InMemoryLookups())
    assert result.target is None
    (violation,) = result.violations
    assert violation.field == "Unit"
    assert violation.rule == "lookup"
    assert violation.value == "Barrel"
    assert "no entry for 'Barrel' in lookup 'uom'" in violation.message
    assert "lookup('uom', uomname)" in violation.message


def test_declared_default_is_used_on_a_miss(make_flow: MakeFlow) -> None:
    flow = make_flow({"Unit": "lookup('uom', uomname, 'EA')"})
    assert flow.apply({"uomname": "Barrel"}, InMemoryLookups()).unwrap() == {"Unit": "EA"}


def test_null_key_gives_null_not_a_miss(make_flow: MakeFlow) -> None:
    flow = make_flow({"Unit": "lookup('uom', uomname)", "BP": "xref('account', accountid)"})
    assert flow.apply({}, InMemoryLookups()).unwrap() == {"Unit": None, "BP": None}


def test_keys_are_compared_as_text(make_flow: MakeFlow) -> None:
    flow = make_flow({"Terms": "lookup('payment_terms', paymenttermscode)"})
    assert flow.apply({"paymenttermscode": 3}, InMemoryLookups()).unwrap() == {"Terms": "NT45"}


def test_xref_miss_in_both_directions(make_flow: MakeFlow) -> None:
    flow = make_flow({"BP": "xref('account', a)", "Account": "xref_d365('account', bp)"})
    result = flow.apply(
        {"a": "guid-9", "bp": "9999"}, InMemoryLookups({"account": {"guid-1": "1"}})
    )
    assert [(v.field, v.rule, v.value) for v in result.violations] == [
        ("BP", "lookup", "guid-9"),
        ("Account", "lookup", "9999"),
    ]


def test_xref_miss_can_default_to_null_for_a_new_record(make_flow: MakeFlow) -> None:
    flow = make_flow({"BusinessPartner": "xref('account', accountid, null)"})
    assert flow.apply({"accountid": "new"}, InMemoryLookups()).unwrap() == {"BusinessPartner": None}


def test_unknown_table_is_rejected_when_the_flow_loads(make_flow: MakeFlow) -> None:
    with pytest.raises(FlowDefinitionError) as caught:
        make_flow({"Unit": "lookup('units', uomname)"})
    text = str(caught.value)
    assert text.startswith("test-flow.yaml:13: mapping.Unit: unknown lookup table 'units'")
    assert "lookup('units', uomname)" in text
    assert text.splitlines()[-1].index("^") == text.splitlines()[-2].index("'units'")


def test_table_name_must_be_literal(make_flow: MakeFlow) -> None:
    with pytest.raises(FlowDefinitionError, match="must be a quoted name"):
        make_flow({"Unit": "lookup(table, uomname)"})


def test_reverse_lookup_needs_unique_values(make_flow: MakeFlow) -> None:
    with pytest.raises(FlowDefinitionError, match="needs unique values"):
        make_flow({"Type": "lookup_reverse('product_type', code)"})
    flow = make_flow({"Country": "lookup_reverse('country', 'DE')"})
    assert flow.apply({}, InMemoryLookups()).unwrap() == {"Country": "Germany"}


def test_lookup_miss_error_carries_table_and_key() -> None:
    error = LookupMissError(table="uom", key="Barrel")
    assert (error.table, error.key) == ("uom", "Barrel")


def test_csv_and_yaml_tables() -> None:
    table = parse_csv_table("# units\nd365,s4\nPiece,PC\n", name="uom", source="uom.csv")
    assert table == StaticTable("uom", ("d365", "s4"), {"Piece": "PC"}, "uom.csv")
    assert table.reverse == {"PC": "Piece"}
    yaml_table = parse_yaml_table(
        "columns: [a, b]\nentries:\n  1: NT30\n", name="t", source="t.yaml"
    )
    assert yaml_table.forward == {"1": "NT30"}


@pytest.mark.parametrize(
    "text",
    ["onlyone\n", "a,b\nx,1\nx,2\n", "a,b\nshort\n", "a,b\n,empty\n"],
)
def test_malformed_csv_tables(text: str) -> None:
    with pytest.raises(FlowDefinitionError):
        parse_csv_table(text, name="t", source="t.csv")


def test_shipped_tables_load(tables: dict[str, StaticTable]) -> None:
    assert {"uom", "currency", "country", "payment_terms", "sales_org_by_country"} <= set(tables)
    assert tables["uom"].forward["Piece"] == "PC"
    assert tables["sales_org_by_country"].forward["US"] == "1710"
