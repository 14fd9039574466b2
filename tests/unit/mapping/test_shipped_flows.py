"""Every shipped flow on its sample event: the exact target, and that it fits the Avro contract."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pytest

from isthmus.mapping import Flow, InMemoryLookups, load_flows
from isthmus.schemas import SchemaCatalogue

FLOWS = Path(__file__).resolve().parents[3] / "flows"
ORDER_ID = "6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10"
ACCOUNT_ID = "00000000-0000-0000-0000-000000000020"
XREF = InMemoryLookups({"account": {ACCOUNT_ID: "17100001"}, "salesorder": {ORDER_ID: "4711"}})
UTC = dt.UTC


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return load_flows(FLOWS)


@pytest.fixture(scope="module")
def catalogue(repo_root: Path) -> SchemaCatalogue:
    return SchemaCatalogue.load(repo_root / "schemas")


def sample(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FLOWS / "samples" / f"{name}.json").read_text())
    return document


def run(flow: Flow, name: str, event_type: str) -> dict[str, Any]:
    record = sample(name)
    assert flow.matches(event_type, record)
    result = flow.apply(record, XREF)
    assert result.violations == ()
    assert result.target is not None
    return result.target


def idempotency_header(system: str, source_id: str, reference: str, version: str) -> dict[str, Any]:
    """The header a flow writes: the idempotency key of the source record."""
    return {
        "idempotency": {
            "sourceSystem": system,
            "sourceId": source_id,
            "externalReference": reference,
            "sourceVersion": version,
        }
    }


def assert_fits_contract(catalogue: SchemaCatalogue, flow: Flow, target: dict[str, Any]) -> None:
    """Add what the transformer stamps on the header and write the record with fastavro."""
    record = dict(target)
    record["header"] = {
        "commandId": "c-1",
        "issuedAt": dt.datetime(2026, 11, 20, 16, 45, 12, tzinfo=UTC),
        "flow": f"{flow.id}@{flow.version}",
        "causationId": None,
        "correlationId": None,
        **target["header"],
    }
    schema = catalogue.get(flow.target.command_type).parsed
    fastavro.schemaless_writer(io.BytesIO(), schema, record)


def test_every_flow_file_loads_and_has_a_sample(flows: dict[str, Flow]) -> None:
    assert sorted(flows) == [
        "d365-account-to-s4-businesspartner",
        "d365-invoice-to-s4-journalentry",
        "d365-salesorder-to-s4",
        "d365-shipment-to-s4-delivery",
        "s4-billingdocument-to-d365-invoice",
        "s4-businesspartner-to-d365-account",
        "s4-materialstock-to-d365-inventory",
        "s4-product-to-d365",
        "s4-salesorder-confirmation-to-d365",
    ]


def test_d365_sales_order_to_s4(flows: dict[str, Flow], catalogue: SchemaCatalogue) -> None:
    flow = flows["d365-salesorder-to-s4"]
    target = run(flow, "d365-salesorder-created", "Create")
    assert target == {
        "header": idempotency_header("D365", ORDER_ID, "ORD-01001-K8Q4Z1", "2264412"),
        "action": "CREATE",
        "SalesOrderType": "ZOR",
        "SalesOrganization": "1710",
        "DistributionChannel": "10",
        "OrganizationDivision": "00",
        "SoldToParty": "17100001",
        "PurchaseOrderByCustomer": "ORD-01001-K8Q4Z1",
        "CustomerPurchaseOrderDate": dt.date(2026, 11, 20),
        "RequestedDeliveryDate": dt.date(2026, 12, 1),
        "TransactionCurrency": "USD",
        "CustomerPaymentTerms": "NT30",
        "to_Partner": [{"PartnerFunction": "WE", "Customer": "17100001"}],
        "to_Item": [
            {
                "SalesOrderItem": "10",
                "Material": "TG11",
                "SalesOrderItemText": "Trading goods 11, packed in cartons of t",
                "RequestedQuantity": Decimal("5.000"),
                "RequestedQuantityUnit": "PC",
                "RequestedDeliveryDate": dt.date(2026, 12, 1),
            },
            {
                "SalesOrderItem": "20",
                "Material": "TG12",
                "SalesOrderItemText": "TG12",
                "RequestedQuantity": Decimal("15.000"),
                "RequestedQuantityUnit": "EA",
                "RequestedDeliveryDate": dt.date(2026, 12, 1),
            },
        ],
    }
    assert flow.key(sample("d365-salesorder-created")) == ORDER_ID
    assert_fits_contract(catalogue, flow, target)


def test_small_orders_are_standard_orders(flows: dict[str, Flow]) -> None:
    record = sample("d365-salesorder-created")
    record["data"]["totalamount"] = 9999.99
    target = flows["d365-salesorder-to-s4"].apply(record, XREF).unwrap()
    assert target["SalesOrderType"] == "OR"


def test_unknown_customer_is_a_violation_not_an_invented_party(flows: dict[str, Flow]) -> None:
    result = flows["d365-salesorder-to-s4"].apply(
        sample("d365-salesorder-created"), InMemoryLookups()
    )
    assert result.target is None
    assert [(v.field, v.rule) for v in result.violations] == [
        ("SoldToParty", "lookup"),
        ("to_Partner[0].Customer", "lookup"),
    ]


def test_the_integration_users_own_changes_do_not_trigger(flows: dict[str, Flow]) -> None:
    flow = flows["d365-salesorder-to-s4"]
    record = sample("d365-salesorder-created")
    assert not flow.matches(
        "Create", record, ignore_origins=["75c2dd85-a3b7-4c1e-9f3a-1d2e3f4a5b6c"]
    )
    assert not flow.matches("Update", record)
    record["data"]["statecode"] = 2
    assert not flow.matches("Create", record)


def test_s4_confirmation_to_d365(flows: dict[str, Flow], catalogue: SchemaCatalogue) -> None:
    flow = flows["s4-salesorder-confirmation-to-d365"]
    target = run(flow, "s4-salesorder-changed", "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1")
    assert target == {
        "header": idempotency_header("S4", "4711", "4711", "2026-11-20T16:45:41.1257050Z"),
        "salesorderid": ORDER_ID,
        "isthmus_s4salesorder": "4711",
        "isthmus_s4status": 100000000,
        "statecode": 1,
        "statuscode": 3,
        "message": "S/4HANA sales order 4711 (ZOR), net 11400.00 USD",
    }
    assert_fits_contract(catalogue, flow, target)


def test_d365_account_to_s4_business_partner(
    flows: dict[str, Flow], catalogue: SchemaCatalogue
) -> None:
    flow = flows["d365-account-to-s4-businesspartner"]
    record = sample("d365-account-created")
    result = flow.apply(record, InMemoryLookups())
    assert flow.matches("Create", record)
    assert result.withheld == ("SearchTerm1",)
    assert result.target == {
        "header": idempotency_header("D365", ACCOUNT_ID, "A-1000", "2264380"),
        "BusinessPartner": None,
        "BusinessPartnerCategory": "2",
        "BusinessPartnerGrouping": "BP02",
        "OrganizationBPName1": "Sample Account International Trading and",
        "OrganizationBPName2": "Distribution Company",
        "Language": "EN",
        "BusinessPartnerIDByExtSystem": "A-1000",
        "to_BusinessPartnerRole": [
            {"BusinessPartnerRole": "FLCU00"},
            {"BusinessPartnerRole": "FLCU01"},
        ],
        "to_BusinessPartnerAddress": [
            {
                "StreetName": "Dietmar-Hopp-Allee",
                "HouseNumber": "16",
                "PostalCode": "69190",
                "CityName": "Walldorf",
                "Country": "DE",
                "Region": "BW",
                "Language": "EN",
                "EmailAddress": "ap@sample-account.example",
                "PhoneNumber": "+49 6227 7-47474",
            }
        ],
        "to_CustomerSalesArea": [
            {
                "SalesOrganization": "1010",
                "DistributionChannel": "10",
                "Division": "00",
                "Currency": "EUR",
            }
        ],
    }
    assert_fits_contract(catalogue, flow, result.target)
    known = flow.apply(record, XREF).unwrap()
    assert known["BusinessPartner"] == "17100001"


def test_s4_business_partner_to_d365_account(
    flows: dict[str, Flow], catalogue: SchemaCatalogue
) -> None:
    flow = flows["s4-businesspartner-to-d365-account"]
    target = run(
        flow,
        "s4-businesspartner-changed",
        "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1",
    )
    assert target == {
        "header": idempotency_header("S4", "17100002", "17100002", "20261121080211"),
        "action": "UPSERT",
        "isthmus_s4businesspartner": "17100002",
        "accountid": None,
        "name": "Domestic US Customer 2 Retail Division",
        "accountnumber": "17100002",
        "address1_line1": "3501 Washington Avenue",
        "address1_city": "St. Louis",
        "address1_stateorprovince": "MO",
        "address1_postalcode": "63103",
        "address1_country": "United States",
        "isocurrencycode": "USD",
        "paymenttermscode": 1,
    }
    assert_fits_contract(catalogue, flow, target)


def test_s4_echoes_are_judged_by_their_changed_fields_not_by_the_user(
    flows: dict[str, Flow],
) -> None:
    # the partner is read after the event, so its last user may not be the one who raised it
    record = sample("s4-businesspartner-changed")
    record["envelope"]["originUser"] = "ISTHMUS_INTEGRATION"
    event_type = "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1"
    flow = flows["s4-businesspartner-to-d365-account"]
    assert flow.matches(event_type, record)
    assert flow.writes is not None
    our_phone_write = ["to_BusinessPartnerAddress[0].PhoneNumber", "LastChangeTime"]
    assert flow.writes.fields_for(our_phone_write) == ()


def test_s4_product_to_d365(flows: dict[str, Flow], catalogue: SchemaCatalogue) -> None:
    flow = flows["s4-product-to-d365"]
    target = run(flow, "s4-product-changed", "sap.s4.beh.product.v1.Product.Changed.v1")
    assert target == {
        "header": idempotency_header("S4", "MZ-FG-M550", "MZ-FG-M550", "2026-11-18T07:29:58Z"),
        "action": "UPSERT",
        "productnumber": "MZ-FG-M550",
        "name": "MZ-FG-M550 Mountain Bike",
        "description": "MZ-FG-M550 Mountainbike",
        "quantitydecimal": 0,
        "defaultuomname": "Piece",
        "defaultuomschedulename": "Default Unit",
        "producttypecode": 1,
    }
    assert_fits_contract(catalogue, flow, target)


def test_s4_stock_to_d365_inventory(flows: dict[str, Flow], catalogue: SchemaCatalogue) -> None:
    flow = flows["s4-materialstock-to-d365-inventory"]
    target = run(
        flow, "s4-materialstock-changed", "sap.s4.beh.materialstock.v1.MaterialStock.Changed.v1"
    )
    assert target == {
        "header": idempotency_header(
            "S4", "MZ-FG-M550/1710/171A", "MZ-FG-M550", "2026-11-22T13:05:09.250Z"
        ),
        "productnumber": "MZ-FG-M550",
        "quantityonhand": Decimal("142.00000"),
        "unit": "Piece",
        "asOf": dt.datetime(2026, 11, 22, 13, 5, 9, 250000, tzinfo=UTC),
    }
    assert_fits_contract(catalogue, flow, target)


def test_d365_shipment_to_s4_delivery(flows: dict[str, Flow], catalogue: SchemaCatalogue) -> None:
    flow = flows["d365-shipment-to-s4-delivery"]
    target = run(flow, "d365-shipment-confirmed", "FulfillSalesOrder")
    assert target == {
        "header": idempotency_header("D365", ORDER_ID, "ORD-01001-K8Q4Z1", "2270011"),
        "action": "CREATE_AND_POST_GOODS_ISSUE",
        "SalesOrder": "4711",
        "ShippingPoint": "1710",
        "ActualGoodsMovementDate": dt.date(2026, 12, 1),
        "to_DeliveryDocumentItem": [
            {
                "ReferenceSDDocument": "4711",
                "ReferenceSDDocumentItem": "10",
                "ActualDeliveryQuantity": Decimal("5.000"),
            },
            {
                "ReferenceSDDocument": "4711",
                "ReferenceSDDocumentItem": "20",
                "ActualDeliveryQuantity": Decimal("15.000"),
            },
        ],
    }
    assert_fits_contract(catalogue, flow, target)


def test_shipment_before_the_write_back_uses_the_cross_reference(flows: dict[str, Flow]) -> None:
    record = sample("d365-shipment-confirmed")
    record["data"]["isthmus_s4salesorder"] = None
    target = flows["d365-shipment-to-s4-delivery"].apply(record, XREF).unwrap()
    assert target["SalesOrder"] == "4711"
    assert {item["ReferenceSDDocument"] for item in target["to_DeliveryDocumentItem"]} == {"4711"}


def test_s4_billing_document_to_d365_invoice(
    flows: dict[str, Flow], catalogue: SchemaCatalogue
) -> None:
    flow = flows["s4-billingdocument-to-d365-invoice"]
    target = run(
        flow,
        "s4-billingdocument-created",
        "sap.s4.beh.billingdocument.v1.BillingDocument.Created.v1",
    )
    assert target == {
        "header": idempotency_header("S4", "90000017", "90000017", "2026-12-02T06:14:58Z"),
        "isthmus_s4billingdocument": "90000017",
        "name": "Invoice 90000017 for ORD-01001-K8Q4Z1",
        "customeraccountnumber": "17100001",
        "salesorderid": ORDER_ID,
        "isocurrencycode": "USD",
        "duedate": dt.date(2027, 1, 1),
        "datedelivered": None,
        "totalamount": Decimal("12540.00"),
        "invoice_details": [
            {
                "productnumber": "TG11",
                "productdescription": "Trading goods 11, packed in cartons of t",
                "quantity": Decimal("5.00000"),
                "priceperunit": Decimal("1200.0000"),
                "uomname": "Piece",
                "tax": Decimal("600.00"),
                "manualdiscountamount": Decimal("0.00"),
                "lineitemnumber": 1,
            },
            {
                "productnumber": "TG12",
                "productdescription": "TG12",
                "quantity": Decimal("15.00000"),
                "priceperunit": Decimal("360.0000"),
                "uomname": "Each",
                "tax": Decimal("540.00"),
                "manualdiscountamount": Decimal("0.00"),
                "lineitemnumber": 2,
            },
        ],
    }
    assert_fits_contract(catalogue, flow, target)


def test_billing_document_with_inconsistent_totals_is_rejected(flows: dict[str, Flow]) -> None:
    record = sample("s4-billingdocument-created")
    record["data"]["TaxAmount"] = "1140.010"
    result = flows["s4-billingdocument-to-d365-invoice"].apply(record, XREF)
    assert [(v.field, v.rule) for v in result.violations] == [
        ("totalamount", "check"),
        ("invoice_details", "check"),
    ]


def test_d365_invoice_to_s4_journal_entry(
    flows: dict[str, Flow], catalogue: SchemaCatalogue
) -> None:
    flow = flows["d365-invoice-to-s4-journalentry"]
    target = run(flow, "d365-invoice-paid", "Update")

    def line(item: str, account: str, amount: str, text: str) -> dict[str, Any]:
        return {
            "ReferenceDocumentItem": item,
            "GLAccount": account,
            "AmountInTransactionCurrency": {"amount": Decimal(amount), "currencyCode": "USD"},
            "DebitCreditCode": "H",
            "DocumentItemText": text,
            "TaxCode": "O1",
        }

    assert target == {
        "header": idempotency_header(
            "D365", "e7d6c5b4-a392-4817-8f6e-5d4c3b2a1908", "INV-01044-R2T8K5", "2281907"
        ),
        "OriginalReferenceDocumentType": "BKPFF",
        "OriginalReferenceDocument": "INV-01044-R2T8K5",
        "OriginalReferenceDocumentLogicalSystem": "D365CRM",
        "BusinessTransactionType": "RFBU",
        "AccountingDocumentType": "DR",
        "DocumentReferenceID": "INV-01044-R2T8K5",
        "DocumentHeaderText": "Consulting services Decem",
        "CompanyCode": "1710",
        "DocumentDate": dt.date(2026, 12, 31),
        "PostingDate": dt.date(2026, 12, 31),
        "Item": [
            line("1", "41000000", "-6000.00", "Implementation workshop"),
            line("2", "41000000", "-5400.00", "Remote support hours"),
            line("3", "22000000", "-1140.00", "Output tax"),
        ],
        "DebtorItem": [
            {
                "ReferenceDocumentItem": "4",
                "Debtor": "17100001",
                "AmountInTransactionCurrency": {
                    "amount": Decimal("12540.00"),
                    "currencyCode": "USD",
                },
                "DebitCreditCode": "S",
                "DocumentItemText": "INV-01044-R2T8K5",
            }
        ],
    }
    assert_fits_contract(catalogue, flow, target)


def test_unbalanced_journal_entry_is_rejected(flows: dict[str, Flow]) -> None:
    record = sample("d365-invoice-paid")
    record["data"]["totalamount"] = 12540.01
    result = flows["d365-invoice-to-s4-journalentry"].apply(record, XREF)
    assert [(v.field, v.rule) for v in result.violations] == [("Item", "check")]
    assert "does not balance" in result.violations[0].message


def test_invoices_billed_by_s4_are_not_posted_twice(flows: dict[str, Flow]) -> None:
    record = sample("d365-invoice-paid")
    record["data"]["isthmus_s4billingdocument"] = "90000017"
    assert not flows["d365-invoice-to-s4-journalentry"].matches("Update", record)
