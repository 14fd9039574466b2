"""Mapping suggestions: naming styles, synonyms, types, value profiles, scores and reasons."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from isthmus.mapping import load_flows
from isthmus.mapping.suggest.naming import concepts, words
from isthmus.mapping.suggest.ranking import name_similarity, type_compatibility, values_at
from isthmus.mapping.suggestions import (
    FieldInfo,
    fields_from_avro,
    mapped_fields,
    suggest_for_flow,
    suggest_mappings,
)
from isthmus.schemas import SchemaCatalogue

REPO = Path(__file__).resolve().parents[3]


def avro(relative: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO / "schemas" / relative).read_text())
    return schema


def with_items(parent: dict[str, Any], field: str, child: dict[str, Any]) -> dict[str, Any]:
    """Inline the record a parent refers to by name, as a registry would resolve it."""
    for entry in parent["fields"]:
        if entry["name"] == field:
            entry["type"] = {"type": "array", "items": child}
    return parent


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("accountnumber", ("account", "number")),
        ("AccountNumber", ("account", "number")),
        ("account_number", ("account", "number")),
        ("requestdeliveryby", ("request", "delivery", "by")),
        ("RequestedDeliveryDate", ("requested", "delivery", "date")),
        ("CustomerPurchaseOrderDate", ("customer", "purchase", "order", "date")),
        ("_customerid_value", ("customer", "id", "value")),
        ("address1_line1", ("address", "1", "line", "1")),
        ("XMLParser", ("xml", "parser")),
        ("zzqx", ("zzqx",)),
    ],
)
def test_words_across_naming_styles(name: str, expected: tuple[str, ...]) -> None:
    assert words(name) == expected


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("accountnumber", "Customer"),
        ("_customerid_value", "SoldToParty"),
        ("requestdeliveryby", "RequestedDeliveryDate"),
        ("isocurrencycode", "TransactionCurrency"),
        ("productnumber", "Material"),
        ("telephone1", "PhoneNumber"),
        ("emailaddress1", "EmailAddress"),
    ],
)
def test_synonyms_make_crm_and_erp_names_meet(source: str, target: str) -> None:
    score, shared = name_similarity(source, target)
    assert score >= 0.9
    assert shared


def test_unrelated_names_score_low() -> None:
    assert name_similarity("telephone1", "SalesOrganization")[0] < 0.3
    assert concepts("createdon") == frozenset({"creation", "date"})


def test_type_compatibility() -> None:
    assert type_compatibility("string", "string") == 1.0
    assert type_compatibility("int", "decimal") == 0.8
    assert type_compatibility("datetime", "date") == 0.8
    assert type_compatibility("int", "string") == 0.5
    assert type_compatibility("object", "string") == 0.0


def test_fields_from_avro_flattens_records_unions_and_arrays() -> None:
    schema = with_items(
        avro("d365/SalesOrder.avsc"), "order_details", avro("d365/SalesOrderDetail.avsc")
    )
    fields = {field.path: field.type for field in fields_from_avro(schema)}
    assert fields["requestdeliveryby"] == "date"
    assert fields["totalamount"] == "decimal"
    assert fields["createdon"] == "datetime"
    assert fields["versionnumber"] == "int"
    assert fields["order_details[*].quantity"] == "decimal"
    assert fields["order_details[*].uomname"] == "string"


def test_values_at_follows_paths_into_lists() -> None:
    records: list[dict[str, Any]] = [{"a": {"b": [{"c": 1}, {"c": 2}]}}, {"a": None}]
    assert values_at(records, "a.b[*].c") == [1, 2]


def test_sales_order_suggestions_rank_the_right_source_first() -> None:
    source = with_items(
        avro("d365/SalesOrder.avsc"), "order_details", avro("d365/SalesOrderDetail.avsc")
    )
    target = with_items(
        avro("s4/SalesOrderCommand.avsc"), "to_Item", avro("s4/SalesOrderCommandItem.avsc")
    )
    sample = json.loads((REPO / "flows" / "samples" / "d365-salesorder-created.json").read_text())[
        "data"
    ]
    result = suggest_mappings(
        source_fields=fields_from_avro(source),
        target_fields=fields_from_avro(target),
        samples=[sample],
    )
    best = {target: suggestions[0].source for target, suggestions in result.items() if suggestions}
    assert best["RequestedDeliveryDate"] == "requestdeliveryby"
    assert best["TransactionCurrency"] == "isocurrencycode"
    assert best["CustomerPaymentTerms"] == "paymenttermscode"
    assert best["to_Item[*].RequestedQuantity"] == "order_details[*].quantity"
    assert best["to_Item[*].RequestedQuantityUnit"] == "order_details[*].uomname"
    assert best["SoldToParty"] in {"_customerid_value", "customeraccountnumber"}
    assert result["OrganizationDivision"] == []
    top = result["TransactionCurrency"][0]
    assert 0.0 <= top.score <= 1.0
    assert "shared: currency" in top.reason
    assert "values look like currency as expected" in top.reason


def test_value_profiles_break_ties_between_similar_names() -> None:
    source = [FieldInfo("currencyid", "string"), FieldInfo("currencycode", "string")]
    target = [FieldInfo("Currency", "string")]
    samples = [{"currencyid": "3d2766c7-c41f-ef11-840b-000d3abf969a", "currencycode": "EUR"}]
    (first, second) = suggest_mappings(source_fields=source, target_fields=target, samples=samples)[
        "Currency"
    ]
    assert first.source == "currencycode"
    assert first.score > second.score
    assert "guid, currency expected" in second.reason


def test_mapped_targets_are_skipped() -> None:
    flow = load_flows(REPO / "flows")["d365-salesorder-to-s4"]
    mapped = mapped_fields(flow)
    assert {"SoldToParty", "to_Item[*].Material", "header.idempotency.sourceId"} <= mapped
    targets = [FieldInfo("SoldToParty", "string"), FieldInfo("ShippingCondition", "string")]
    sources = [FieldInfo("shippingmethodcode", "int"), FieldInfo("customerid", "string")]
    result = suggest_mappings(source_fields=sources, target_fields=targets, mapped=mapped)
    assert list(result) == ["ShippingCondition"]
    assert result["ShippingCondition"][0].source == "shippingmethodcode"


def test_suggestions_for_the_unmapped_fields_of_a_shipped_flow(repo_root: Path) -> None:
    catalogue = SchemaCatalogue.load(repo_root / "schemas")
    flow = load_flows(REPO / "flows")["d365-salesorder-to-s4"]
    sample = json.loads((REPO / "flows" / "samples" / "d365-salesorder-created.json").read_text())
    result = suggest_for_flow(
        flow=flow,
        source_schema=json.loads(catalogue.get("io.isthmus.d365.SalesOrderEvent").text),
        target_schema=json.loads(catalogue.get("io.isthmus.s4.SalesOrderCommand").text),
        samples=[sample],
    )
    assert "SoldToParty" not in result
    assert not any(target.startswith("header.") for target in result)
    assert result["ShippingCondition"][0].source == "shippingmethodcode"
    assert {"SalesOrder", "ShippingCondition", "to_Item[*].ProductionPlant"} <= set(result)
