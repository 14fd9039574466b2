"""Every kind of mapping a flow can declare, each on a small flow built in the test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from isthmus.mapping import Flow, InMemoryLookups

MakeFlow = Callable[..., Flow]
NO_XREF = InMemoryLookups()

ORDER: dict[str, Any] = {
    "salesorderid": "6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10",
    "ordernumber": "ORD-01001",
    "fullname": "Anna Maria Schmidt",
    "address1_composite": "Dietmar-Hopp-Allee 16\n69190 Walldorf\nGermany",
    "totalamount": 12540.00,
    "totaltax": 1140.00,
    "createdon": "2024-12-31T23:30:00Z",
    "requestdeliveryby": "2025-01-15",
    "order_details": [
        {"productnumber": "TG11", "quantity": 5, "priceperunit": 19.99, "uomname": "Piece"},
        {"productnumber": "TG12", "quantity": 15, "priceperunit": 0.1, "uomname": "Each"},
        {"productnumber": "TG13", "quantity": 1, "priceperunit": 0.2, "uomname": "Kilogram"},
    ],
}


def target(flow: Flow, record: dict[str, Any] = ORDER, lookups: Any = NO_XREF) -> dict[str, Any]:
    return flow.apply(record, lookups).unwrap()


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        pytest.param(
            {"PurchaseOrderByCustomer": "ordernumber"},
            {"PurchaseOrderByCustomer": "ORD-01001"},
            id="one_to_one",
        ),
        pytest.param(
            {
                "PurchaseOrderByCustomer": "ordernumber",
                "AssignmentReference": "ordernumber",
                "SearchTerm": "upper(replace(ordernumber, '-', ''))",
            },
            {
                "PurchaseOrderByCustomer": "ORD-01001",
                "AssignmentReference": "ORD-01001",
                "SearchTerm": "ORD01001",
            },
            id="one_to_many_copies_one_source_into_several_targets",
        ),
        pytest.param(
            {"Text": "ordernumber & ' / ' & fullname & ' / ' & to_string(totalamount)"},
            {"Text": "ORD-01001 / Anna Maria Schmidt / 12540.0"},
            id="many_to_one_combines_sources",
        ),
        pytest.param(
            {
                "Quantity": "to_decimal(order_details[0].quantity, 3)",
                "Lines": "to_string(count(order_details))",
                "Requested": "to_date(requestdeliveryby)",
                "Flag": "to_bool('X')",
            },
            {
                "Quantity": Decimal("5.000"),
                "Lines": "3",
                "Requested": dt.date(2025, 1, 15),
                "Flag": True,
            },
            id="type_conversion",
        ),
        pytest.param(
            {
                "DistributionChannel": {"const": "10"},
                "ShippingCondition": {"value": "shippingcondition", "default": "'01'"},
                "PurchaseOrderByCustomer": {"value": "ordernumber", "default": "'none'"},
            },
            {
                "DistributionChannel": "10",
                "ShippingCondition": "01",
                "PurchaseOrderByCustomer": "ORD-01001",
            },
            id="defaults_apply_only_when_the_value_is_null",
        ),
        pytest.param(
            {"Note": {"value": "ordernumber", "when": "totalamount > 1000000"}},
            {},
            id="when_leaves_a_field_out",
        ),
        pytest.param(
            {
                "to_Partner": {
                    "items": [
                        {"fields": {"PartnerFunction": {"const": "AG"}}},
                        {"when": "exists(shipto)", "fields": {"PartnerFunction": {"const": "WE"}}},
                    ]
                }
            },
            {"to_Partner": [{"PartnerFunction": "AG"}]},
            id="fixed_items_follow_each_items",
        ),
        pytest.param(
            {
                "Amount": {
                    "fields": {"amount": "round(totalamount, 2)", "currencyCode": {"const": "EUR"}}
                }
            },
            {"Amount": {"amount": Decimal("12540.00"), "currencyCode": "EUR"}},
            id="nested_objects",
        ),
        pytest.param(
            {
                "Quantity": "sum(order_details.quantity)",
                "Lines": "count(order_details)",
                "Largest": "max(order_details.quantity)",
                "Units": "join(distinct(order_details.uomname), ',')",
            },
            {
                "Quantity": Decimal(21),
                "Lines": 3,
                "Largest": Decimal(15),
                "Units": "Piece,Each,Kilogram",
            },
            id="aggregation_over_lines",
        ),
        pytest.param(
            {
                "FirstName": "first_name(fullname)",
                "LastName": "last_name(fullname)",
                "StreetName": "street_name(line(address1_composite, 1))",
                "HouseNumber": "house_number(line(address1_composite, 1))",
                "PostalCode": "split(line(address1_composite, 2), ' ')[0]",
                "CityName": "substring(line(address1_composite, 2), 6)",
            },
            {
                "FirstName": "Anna Maria",
                "LastName": "Schmidt",
                "StreetName": "Dietmar-Hopp-Allee",
                "HouseNumber": "16",
                "PostalCode": "69190",
                "CityName": "Walldorf",
            },
            id="splitting_names_and_addresses",
        ),
        pytest.param(
            {
                "NetAmount": "totalamount - totaltax",
                "TaxRate": "round(totaltax / (totalamount - totaltax) * 100, 2)",
                "LineValue": "sum(order_details[*].priceperunit)",
                "Line1Net": "round(order_details[0].quantity * order_details[0].priceperunit, 2)",
                "Line1Tax": (
                    "tax_amount(order_details[0].quantity * order_details[0].priceperunit, 19)"
                ),
            },
            {
                "NetAmount": Decimal("11400.0"),
                "TaxRate": Decimal("10.00"),
                "LineValue": Decimal("20.29"),
                "Line1Net": Decimal("99.95"),
                "Line1Tax": Decimal("18.99"),
            },
            id="calculated_net_and_tax_amounts_are_exact",
        ),
        pytest.param(
            {
                "CreationDate": "odata_date(createdon)",
                "CreationDateBerlin": "odata_date(local_date(createdon, 'Europe/Berlin'))",
                "RequestedDeliveryDate": "odata_date(requestdeliveryby)",
                "Changed": "odata_datetime(createdon)",
                "Back": "iso_datetime(odata_datetime(createdon))",
            },
            {
                "CreationDate": "/Date(1735603200000)/",
                "CreationDateBerlin": "/Date(1735689600000)/",
                "RequestedDeliveryDate": "/Date(1736899200000)/",
                "Changed": "/Date(1735687800000+0000)/",
                "Back": "2024-12-31T23:30:00Z",
            },
            id="dates_and_time_zones",
        ),
    ],
)
def test_mapping_kind(
    make_flow: MakeFlow, mapping: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert target(make_flow(mapping)) == expected


def test_static_lookup_and_xref(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {
            "SoldToParty": "xref('account', customerid)",
            "Unit": "lookup('uom', order_details[0].uomname)",
            "Country": "lookup('country', 'Germany')",
            "BackToD365": "xref_d365('account', '17100001')",
        }
    )
    ports = InMemoryLookups({"account": {"guid-1": "17100001"}})
    assert target(flow, {**ORDER, "customerid": "guid-1"}, ports) == {
        "SoldToParty": "17100001",
        "Unit": "PC",
        "Country": "DE",
        "BackToD365": "guid-1",
    }


def test_conditional_rule_chooses_the_order_type(make_flow: MakeFlow) -> None:
    flow = make_flow({"SalesOrderType": "if(totalamount > 10000, 'ZOR', 'OR')"})
    assert target(flow) == {"SalesOrderType": "ZOR"}
    assert target(flow, {**ORDER, "totalamount": 9999.99}) == {"SalesOrderType": "OR"}
    assert target(flow, {**ORDER, "totalamount": 10000}) == {"SalesOrderType": "OR"}


def test_line_items_become_to_item_numbered_10_20_30(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {
            "to_Item": {
                "each": "order_details",
                "fields": {
                    "SalesOrderItem": "to_string(item_number($index))",
                    "Material": "productnumber",
                    "RequestedQuantityUnit": "lookup('uom', uomname)",
                    "Order": "$$.ordernumber",
                },
            }
        }
    )
    assert target(flow)["to_Item"] == [
        {
            "SalesOrderItem": "10",
            "Material": "TG11",
            "RequestedQuantityUnit": "PC",
            "Order": "ORD-01001",
        },
        {
            "SalesOrderItem": "20",
            "Material": "TG12",
            "RequestedQuantityUnit": "EA",
            "Order": "ORD-01001",
        },
        {
            "SalesOrderItem": "30",
            "Material": "TG13",
            "RequestedQuantityUnit": "KG",
            "Order": "ORD-01001",
        },
    ]


def test_each_when_skips_source_lines(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {
            "to_Item": {
                "each": "order_details",
                "each_when": "quantity > 1",
                "fields": {"M": "productnumber"},
            }
        }
    )
    assert target(flow)["to_Item"] == [{"M": "TG11"}, {"M": "TG12"}]


def test_context_points_expressions_at_the_event_data(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {"Order": "ordernumber", "Event": "$$.envelope.eventId"},
        context="data",
    )
    event = {"envelope": {"eventId": "e-1"}, "data": ORDER}
    assert target(flow, event) == {"Order": "ORD-01001", "Event": "e-1"}
