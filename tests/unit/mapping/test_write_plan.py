"""Changed-fields-only writes: which source fields a target field reads, and ownership."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.mapping import load_flows
from isthmus.mapping.dependencies import covers, expression_reads, field_reads, normalise_path
from isthmus.mapping.writes import WritePlan, plan_writes

FLOWS = Path(__file__).resolve().parents[3] / "flows"


@pytest.mark.parametrize(
    ("expression", "reads"),
    [
        ("telephone1", {"telephone1"}),
        ("upper(substring(replace(name, ' ', ''), 0, 20))", {"name"}),
        ("customer.address.city", {"customer.address.city"}),
        ("lines[0].quantity", {"lines.quantity"}),
        ("sum(lines[*].amount)", {"lines.amount"}),
        ("first(lines[qty > 1].sku)", {"lines.sku", "lines.qty"}),
        ("coalesce(a, xref('account', b, null))", {"a", "b"}),
        ("if(total > 10, 'ZOR', 'OR')", {"total"}),
        ("$$.envelope.sourceVersion", {"$$.envelope.sourceVersion"}),
        ("'constant'", set()),
    ],
)
def test_an_expression_reads_its_fields(expression: str, reads: set[str]) -> None:
    assert expression_reads(expression) == reads


def test_the_context_makes_event_paths_relative() -> None:
    assert expression_reads("$$.data.name", context="data") == {"name"}
    assert expression_reads("$$.envelope.originUser", context="data") == {"$$.envelope.originUser"}


def test_fields_of_a_list_read_through_its_each() -> None:
    reads = field_reads(
        {
            "to_Item": {
                "each": "order_details",
                "each_when": "quantity > 0",
                "fields": {"Material": "productnumber", "Plant": "$parent.plant"},
            },
            "Kind": {"const": "OR"},
            "Note": {"value": "description", "when": "exists(flag)", "default": "'x'"},
        }
    )
    assert reads["to_Item.Material"] == {
        "order_details",
        "order_details.quantity",
        "order_details.productnumber",
    }
    assert "plant" in reads["to_Item.Plant"]
    assert reads["Kind"] == frozenset()
    assert reads["Note"] == {"description", "flag"}


def test_paths_cover_changes_above_and_below_them() -> None:
    assert covers("address", "address.city")
    assert covers("address.city", "address")
    assert not covers("address.city", "address.cityname")
    assert covers("", "anything")
    assert normalise_path("to_A[0].B[*].C[x = 1]") == "to_A.B.C"


def _plan(ownership: dict[str, object]) -> WritePlan:
    plan = plan_writes(
        {
            "trigger": {"system": "d365"},
            "target": {"system": "s4"},
            "context": "data",
            "mapping": {
                "header": {"fields": {"version": "versionnumber"}},
                "Name1": "wrap_line(name, 40, 1)",
                "SearchTerm1": "upper(name)",
                "Kind": {"const": "2"},
                "to_Address": {
                    "items": [{"fields": {"Phone": "telephone1", "Street": "address1_line1"}}]
                },
            },
            "ownership": ownership,
        }
    )
    assert plan is not None
    return plan


def test_a_change_writes_only_the_fields_that_read_it() -> None:
    plan = _plan({"default": "shared", "fields": {"SearchTerm1": "s4"}})
    assert plan.fields_for(["telephone1"]) == ("to_Address.Phone",)
    assert plan.fields_for(["name"]) == ("Name1",)  # the search term is S/4's
    assert plan.fields_for(["versionnumber", "modifiedon"]) == ()  # header is never "written"
    assert plan.fields_for(["statecode"]) == ()


def test_target_owned_subtrees_and_list_fields_are_never_written() -> None:
    plan = _plan({"default": "shared", "fields": {"to_Address[*].Phone": "s4"}})
    assert plan.fields_for(["telephone1", "address1_line1"]) == ("to_Address.Street",)
    everything = _plan({"default": "s4", "fields": {"to_Address": "d365"}})
    assert everything.writable() == ("to_Address.Phone", "to_Address.Street")


def test_a_flow_without_ownership_has_no_plan() -> None:
    assert plan_writes({"trigger": {}, "target": {}, "mapping": {}}) is None


def test_shipped_master_data_flows() -> None:
    flows = load_flows(FLOWS)
    to_s4 = flows["d365-account-to-s4-businesspartner"].writes
    to_d365 = flows["s4-businesspartner-to-d365-account"].writes
    assert to_s4 is not None
    assert to_d365 is not None
    assert to_s4.fields_for(["telephone1"]) == ("to_BusinessPartnerAddress.PhoneNumber",)
    assert to_s4.fields_for(["emailaddress1"]) == ("to_BusinessPartnerAddress.EmailAddress",)
    assert to_s4.fields_for(["name"]) == ("OrganizationBPName1", "OrganizationBPName2")
    assert to_s4.fields_for(["paymenttermscode"]) == ()  # S/4 owns payment terms
    assert to_d365.fields_for(["to_BusinessPartnerAddress[0].PhoneNumber"]) == ()  # D365's
    assert to_d365.fields_for(["OrganizationBPName1", "LastChangeDate"]) == ("name",)
    terms = "to_Customer.to_CustomerSalesArea[0].CustomerPaymentTerms"
    assert to_d365.fields_for([terms]) == ("paymenttermscode",)


def test_nested_target_owned_values_are_cleared_even_for_a_create() -> None:
    plan = _plan({"default": "shared", "fields": {"to_Address[*].Phone": "s4"}})
    address = {"Phone": "+49 1", "Street": "Main St 1"}
    target = {"Name1": "Contoso", "to_Address": [address]}
    assert plan.withhold(target) == {
        "Name1": "Contoso",
        "to_Address": [{"Phone": None, "Street": "Main St 1"}],
    }
    assert address["Phone"] == "+49 1"  # the mapped target is left alone
