"""``$filter`` evaluation against Dataverse rows, and its errors as QueryError (pure)."""

from __future__ import annotations

import pytest

from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.filter_eval import FilterCompiler
from isthmus.sandbox_d365.odata.query import parse_filter
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


def test_syntax_errors_are_query_errors_with_the_dataverse_text() -> None:
    with pytest.raises(QueryError) as caught:
        parse_filter("name eq")
    assert caught.value.message == "Syntax error in 'name eq'."
    assert caught.value.status == 400
