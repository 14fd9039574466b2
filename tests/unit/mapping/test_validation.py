"""Validation rules run on the mapped target and report every violation, not just the first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from isthmus.mapping import Flow, FlowDefinitionError, InMemoryLookups, ValidationFailedError

MakeFlow = Callable[..., Flow]

MAPPING = {
    "SoldToParty": "customer",
    "SalesOrderType": "ordertype",
    "PurchaseOrderByCustomer": "ordernumber",
    "TransactionCurrency": "currency",
    "to_Item": {
        "each": "lines",
        "fields": {"Material": "product", "RequestedQuantity": "to_decimal(quantity, 3)"},
    },
}
RULES = {
    "SoldToParty": {"required": True, "max_length": 10},
    "SalesOrderType": {"one_of": ["OR", "ZOR"]},
    "PurchaseOrderByCustomer": {"pattern": "ORD-[0-9]{5}"},
    "TransactionCurrency": {"in_table": "currency"},
    "to_Item[*].Material": {"required": True, "max_length": 40},
    "to_Item[*].RequestedQuantity": {"min": "0.001", "max": 1000},
}
CHECKS = [{"field": "to_Item", "rule": "count(to_Item) > 0", "message": "an order needs items"}]


def apply(flow: Flow, record: dict[str, Any]) -> Any:
    return flow.apply(record, InMemoryLookups())


def test_a_valid_record_passes(make_flow: MakeFlow) -> None:
    flow = make_flow(MAPPING, validation=RULES, checks=CHECKS)
    record = {
        "customer": "17100001",
        "ordertype": "OR",
        "ordernumber": "ORD-01001",
        "currency": "USD",
        "lines": [{"product": "TG11", "quantity": 5}],
    }
    assert apply(flow, record).ok


def test_every_violation_is_reported(make_flow: MakeFlow) -> None:
    flow = make_flow(MAPPING, validation=RULES, checks=CHECKS)
    record = {
        "customer": None,
        "ordertype": "XX",
        "ordernumber": "web 1",
        "currency": "XYZ",
        "lines": [{"product": "TG11", "quantity": 0}, {"product": None, "quantity": 5000}],
    }
    result = apply(flow, record)
    assert result.target is None
    assert [(v.field, v.rule, v.value) for v in result.violations] == [
        ("SoldToParty", "required", None),
        ("SalesOrderType", "one_of", "XX"),
        ("PurchaseOrderByCustomer", "pattern", "web 1"),
        ("TransactionCurrency", "in_table", "XYZ"),
        ("to_Item[1].Material", "required", None),
        ("to_Item[0].RequestedQuantity", "min", pytest.approx(0)),
        ("to_Item[1].RequestedQuantity", "max", 5000),
    ]
    messages = [v.message for v in result.violations]
    assert messages[0] == "SoldToParty is required"
    assert messages[1] == "SalesOrderType is not one of OR, ZOR"
    assert messages[6] == "to_Item[1].RequestedQuantity is above the maximum 1000"


def test_record_checks_and_mapping_failures_are_reported_together(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {**MAPPING, "SoldToParty": "to_int(customer)"}, validation=RULES, checks=CHECKS
    )
    record = {
        "customer": "abc",
        "ordertype": "OR",
        "ordernumber": "ORD-00001",
        "currency": "EUR",
        "lines": [],
    }
    result = apply(flow, record)
    assert [(v.field, v.rule) for v in result.violations] == [
        ("SoldToParty", "conversion"),
        ("to_Item", "check"),
    ]
    assert "cannot convert 'abc' to int" in result.violations[0].message


def test_unwrap_raises_validation_failed_with_all_violations(make_flow: MakeFlow) -> None:
    flow = make_flow(MAPPING, validation=RULES, checks=CHECKS)
    result = apply(flow, {"ordertype": "XX", "lines": []})
    with pytest.raises(ValidationFailedError) as caught:
        result.unwrap()
    assert caught.value.violations == result.violations
    assert "3 violation(s)" in str(caught.value)


def test_max_length_counts_characters(make_flow: MakeFlow) -> None:
    flow = make_flow({"SoldToParty": "customer"}, validation={"SoldToParty": {"max_length": 10}})
    assert apply(flow, {"customer": "1234567890"}).ok
    (violation,) = apply(flow, {"customer": "12345678901"}).violations
    assert violation.message == "SoldToParty is longer than 10 characters"


def test_min_on_text_that_is_no_number(make_flow: MakeFlow) -> None:
    flow = make_flow({"Q": "q"}, validation={"Q": {"min": 1}})
    (violation,) = apply(flow, {"q": "many"}).violations
    assert violation.message == "Q is not a number"


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"Q": {"in_table": "nope"}}, "unknown table 'nope'"),
        ({"Q": {"pattern": "("}}, "bad pattern"),
        ({"Q": {"maxlength": 3}}, "Additional properties"),
    ],
)
def test_bad_rules_are_rejected_at_load(
    make_flow: MakeFlow, rules: dict[str, Any], message: str
) -> None:
    with pytest.raises(FlowDefinitionError, match=message):
        make_flow({"Q": "q"}, validation=rules)
