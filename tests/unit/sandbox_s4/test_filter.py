"""The $filter parser builds an AST (no eval) and evaluates V2 literals and functions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from isthmus.sandbox_s4.app import metadata_dir
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.edm import load_service
from isthmus.sandbox_s4.odata.filter import (
    Call,
    Compare,
    Literal,
    Logical,
    Not,
    PropertyRef,
    parse_filter,
)
from isthmus.sandbox_s4.odata.query import apply_filter, apply_orderby

ORDER = (
    load_service(path=Path(metadata_dir()) / "API_SALES_ORDER_SRV.edmx")
    .entity_sets["A_SalesOrder"]
    .entity_type
)

ROWS: list[dict[str, Any]] = [
    {
        "SalesOrder": "1",
        "SoldToParty": "17100001",
        "TotalNetAmount": "100.000",
        "CreationDate": "/Date(1735689600000)/",
        "PurchaseOrderByCustomer": "WEB-1001",
    },
    {
        "SalesOrder": "2",
        "SoldToParty": "17100002",
        "TotalNetAmount": "2500.500",
        "CreationDate": "/Date(1738368000000)/",
        "PurchaseOrderByCustomer": "Shop O'Neil",
    },
    {
        "SalesOrder": "3",
        "SoldToParty": "10100001",
        "TotalNetAmount": "10.000",
        "CreationDate": None,
        "PurchaseOrderByCustomer": "web-1003",
    },
]


def matching(text: str) -> list[str]:
    return [
        r["SalesOrder"] for r in apply_filter(rows=ROWS, node=parse_filter(text=text), entity=ORDER)
    ]


def test_parser_builds_an_ast_with_precedence() -> None:
    node = parse_filter(text="not (A eq 'x') or B gt 1 and C le 2.5M")
    assert node == Logical(
        "or",
        Not(Compare("eq", PropertyRef("A"), Literal("x"))),
        Logical(
            "and",
            Compare("gt", PropertyRef("B"), Literal(1)),
            Compare("le", PropertyRef("C"), Literal(Decimal("2.5"))),
        ),
    )


def test_typed_literals() -> None:
    assert parse_filter(text="D eq datetime'2025-01-01T00:00:00'") == Compare(
        "eq", PropertyRef("D"), Literal(1735689600000)
    )
    assert parse_filter(text="D eq datetimeoffset'2025-01-01T01:00:00+01:00'") == Compare(
        "eq", PropertyRef("D"), Literal(1735689600000)
    )
    guid = parse_filter(text="G eq guid'ABCDEF01-0000-0000-0000-000000000000'")
    assert guid == Compare("eq", PropertyRef("G"), Literal("abcdef01-0000-0000-0000-000000000000"))
    assert parse_filter(text="substringof('a''b',N)") == Call(
        "substringof", (Literal("a'b"), PropertyRef("N"))
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SoldToParty eq '17100001'", ["1"]),
        ("SoldToParty ne '17100001'", ["2", "3"]),
        ("TotalNetAmount gt 100", ["2"]),
        ("TotalNetAmount ge 100", ["1", "2"]),
        ("TotalNetAmount lt '100'", ["3"]),
        ("TotalNetAmount le 100.0M", ["1", "3"]),
        ("CreationDate ge datetime'2025-01-15T00:00:00'", ["2"]),
        ("CreationDate eq null", ["3"]),
        ("startswith(SoldToParty,'1710') and not (TotalNetAmount gt 1000)", ["1"]),
        ("endswith(PurchaseOrderByCustomer,'1003') or SalesOrder eq '2'", ["2", "3"]),
        ("substringof('O''Neil',PurchaseOrderByCustomer)", ["2"]),
        ("substringof('WEB',toupper(PurchaseOrderByCustomer))", ["1", "3"]),
        ("(SalesOrder eq '1' or SalesOrder eq '2') and SoldToParty eq '17100002'", ["2"]),
    ],
)
def test_filter_evaluation(expression: str, expected: list[str]) -> None:
    assert matching(expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "SoldToParty eq",
        "SoldToParty eq 'x' and",
        "(SalesOrder eq '1'",
        "foo(SalesOrder)",
        "SalesOrder eq 'x' 'y'",
        "SalesOrder # 1",
    ],
)
def test_malformed_filters_are_rejected(expression: str) -> None:
    with pytest.raises(MalformedRequestError):
        parse_filter(text=expression)


def test_unknown_property_is_rejected() -> None:
    with pytest.raises(MalformedRequestError, match="Property Nope not found"):
        matching("Nope eq 1")


def test_orderby_typed_and_descending() -> None:
    ordered = apply_orderby(rows=ROWS, orderby=[("TotalNetAmount", True)], entity=ORDER)
    assert [r["SalesOrder"] for r in ordered] == ["2", "1", "3"]
    by_date = apply_orderby(rows=ROWS, orderby=[("CreationDate", False)], entity=ORDER)
    assert [r["SalesOrder"] for r in by_date] == ["3", "1", "2"]
