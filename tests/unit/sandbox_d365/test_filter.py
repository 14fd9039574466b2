"""``$filter`` parsing and evaluation against rows (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.filter_eval import FilterCompiler
from isthmus.sandbox_d365.odata.filter_parser import (
    Call,
    Compare,
    Literal,
    Logical,
    Not,
    Prop,
    parse_filter,
)
from isthmus.sandbox_d365.odata.schema import Table

pytestmark = pytest.mark.unit
CATALOGUE = build_catalogue()
ACCOUNTS = CATALOGUE.by_set["accounts"]
GUID = "6d81597f-0f9f-e711-8122-000d3aa2331c"
ROWS = [
    {
        "accountid": "a1",
        "name": "Contoso Ltd",
        "creditlimit": 100.0,
        "statecode": 0,
        "creditonhold": True,
        "_primarycontactid_value": GUID,
        "createdon": "2024-01-31T10:00:00Z",
        "accountnumber": "O'Brien",
    },
    {
        "accountid": "a2",
        "name": "Fabrikam",
        "creditlimit": 500.0,
        "statecode": 1,
        "creditonhold": False,
        "_primarycontactid_value": None,
        "createdon": "2023-05-01T00:00:00Z",
        "accountnumber": None,
    },
]


def _ids(expression: str, table: Table = ACCOUNTS) -> list[str]:
    predicate = FilterCompiler(table=table, resolver=lambda t, lookup, row: None).compile(
        parse_filter(expression)
    )
    return [str(row["accountid"]) for row in ROWS if predicate(row)]


def test_parses_precedence_into_an_ast() -> None:
    node = parse_filter("not statecode eq 1 or name eq 'x' and creditlimit gt 5")
    assert node == Logical(
        "or",
        Not(Compare("eq", Prop(("statecode",)), Literal(1, "number"))),
        Logical(
            "and",
            Compare("eq", Prop(("name",)), Literal("x", "string")),
            Compare("gt", Prop(("creditlimit",)), Literal(5, "number")),
        ),
    )


def test_parses_functions_guids_dates_and_paths() -> None:
    assert parse_filter("contains(name,'a')") == Call(
        "contains", (Prop(("name",)), Literal("a", "string"))
    )
    assert _compare(f"_primarycontactid_value eq {GUID.upper()}").right == Literal(GUID, "guid")
    when = _compare("createdon ge 2024-01-31T00:00:00Z").right
    assert when == Literal("2024-01-31T00:00:00Z", "datetime")
    assert _compare("primarycontactid/fullname eq 'x'").left == Prop(
        ("primarycontactid", "fullname")
    )


def _compare(expression: str) -> Compare:
    node = parse_filter(expression)
    assert isinstance(node, Compare)
    return node


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("name eq 'contoso ltd'", ["a1"]),
        ("name ne 'Contoso Ltd'", ["a2"]),
        ("creditlimit gt 100", ["a2"]),
        ("creditlimit ge 100 and creditlimit le 500", ["a1", "a2"]),
        ("creditlimit lt 100.5", ["a1"]),
        ("(statecode eq 0 or statecode eq 1) and not (creditonhold eq true)", ["a2"]),
        ("contains(name,'TOSO')", ["a1"]),
        ("startswith(name,'fab')", ["a2"]),
        ("endswith(name,'Ltd')", ["a1"]),
        ("accountnumber eq null", ["a2"]),
        ("accountnumber ne null", ["a1"]),
        ("accountnumber eq 'O''Brien'", ["a1"]),
        (f"_primarycontactid_value eq {GUID}", ["a1"]),
        ("createdon gt 2024-01-01T00:00:00Z", ["a1"]),
        ("createdon lt 2024-01-01", ["a2"]),
        ("creditonhold", ["a1"]),
        (
            'Microsoft.Dynamics.CRM.In(PropertyName=\'name\',PropertyValues=["Fabrikam","x"])',
            ["a2"],
        ),
        ("100 lt creditlimit", ["a2"]),
    ],
)
def test_evaluates_common_operators(expression: str, expected: list[str]) -> None:
    assert _ids(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "name eq",
        "name eq 'x",
        "(name eq 'x'",
        "nosuch eq 1",
        "name eq 5",
        "creditlimit eq 'x'",
        "substringof('a',name)",
        "name eq 'a' extra",
        "name $ 'a'",
    ],
)
def test_rejects_invalid_filters(expression: str) -> None:
    with pytest.raises(QueryError):
        _ids(expression)


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_any_string_literal_round_trips(value: str) -> None:
    quoted = "'" + value.replace("'", "''") + "'"
    assert _compare(f"name eq {quoted}").right == Literal(value, "string")
