"""V2 $filter evaluation, sorting, and filter errors as MalformedRequestError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isthmus.sandbox_s4.app import metadata_dir
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.edm import load_service
from isthmus.sandbox_s4.odata.query import apply_filter, apply_orderby, parse_filter

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


def test_syntax_errors_are_malformed_requests_with_the_gateway_text() -> None:
    with pytest.raises(MalformedRequestError) as caught:
        parse_filter(text="foo(SalesOrder)")
    assert caught.value.message == "Function 'foo' is not supported"
    assert caught.value.code == "/IWBEP/CM_MGW_RT/004"
