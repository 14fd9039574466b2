"""Contract tests for README checklist 9-15, 17 (documents, batch, journal entry)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import httpx

ORDERS = "API_SALES_ORDER_SRV/A_SalesOrder"


def order_count(s4) -> int:
    return int(s4.http.get(f"{ORDERS}/$count").text)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["message"]["lang"] == "en"
    assert error["innererror"]["application"]["component_id"] == "SD-SLS-API"
    assert re.fullmatch(r"[0-9A-F]{32}", error["innererror"]["transactionid"])
    return error


def test_item09_deep_insert_numbering_pricing_atomicity(s4) -> None:
    verbose = s4.create_order(
        to_Partner={"results": [{"PartnerFunction": "WE", "Customer": "17100002"}]}
    )
    plain = s4.create_order(
        to_Item=[
            {"Material": "TG11", "RequestedQuantity": "1"},
            {"Material": "TG12", "RequestedQuantity": "3"},
        ]
    )
    assert int(plain["SalesOrder"]) == int(verbose["SalesOrder"]) + 1
    assert not verbose["SalesOrder"].startswith("0")
    items = plain["to_Item"]["results"]
    assert [i["SalesOrderItem"] for i in items] == ["10", "20"]
    assert [i["NetAmount"] for i in items] == ["55.000", "99.000"]
    assert plain["TotalNetAmount"] == "154.000"
    assert plain["TransactionCurrency"] == "USD"
    assert plain["OverallSDProcessStatus"] == "A"
    assert items[0]["RequestedQuantityUnit"] == "PC"
    partners = s4.http.get(f"{ORDERS}('{verbose['SalesOrder']}')/to_Partner").json()["d"]["results"]
    lines = s4.http.get(
        f"API_SALES_ORDER_SRV/A_SalesOrderItem(SalesOrder='{plain['SalesOrder']}',SalesOrderItem='20')"
        "/to_ScheduleLine"
    ).json()["d"]["results"]
    assert [
        (x["ScheduleLineOrderQuantity"], x["ConfdOrderQtyByMatlAvailCheck"]) for x in lines
    ] == [("3.000", "3.000")]
    short = s4.create_order(to_Item=[{"Material": "MZ-FG-C990", "RequestedQuantity": "50"}])
    (line,) = s4.http.get(
        f"API_SALES_ORDER_SRV/A_SalesOrderItem(SalesOrder='{short['SalesOrder']}',SalesOrderItem='10')"
        "/to_ScheduleLine"
    ).json()["d"]["results"]
    assert line["ConfdOrderQtyByMatlAvailCheck"] == "40.000"  # seeded stock of MZ-FG-C990 in 1710
    assert {p["PartnerFunction"]: p["Customer"] for p in partners}["WE"] == "17100002"
    before = order_count(s4)
    broken = s4.post(
        ORDERS,
        {
            **s4.order,
            "to_Item": [
                {"Material": "TG11", "RequestedQuantity": "1"},
                {"Material": "NOPE", "RequestedQuantity": "1"},
            ],
        },
    )
    assert broken.status_code == 400
    assert order_count(s4) == before
    assert s4.http.get("API_SALES_ORDER_SRV/A_SalesOrderItem/$count").text == str(4)


def test_item10_business_errors_are_sap_shaped(s4) -> None:
    cases: dict[str, dict[str, Any]] = {
        "V1/043": {"SalesOrderType": "ZZZZ"},
        "V1/044": {"SalesOrganization": "9999"},
        "V1/382": {"SoldToParty": ""},
        "VP/112": {"SoldToParty": "99999999"},
        "V1/462": {"SoldToParty": "17100003"},
        "VP/200": {"SoldToParty": "17100004"},
        "V1/392": {"to_Item": [{"Material": "UNKNOWN", "RequestedQuantity": "1"}]},
        "V1/380": {"to_Item": [{"Material": "TG11"}]},
    }
    for code, change in cases.items():
        error = error_of(s4.post(ORDERS, {**s4.order, **change}))
        assert error["code"] == code
        detail = error["innererror"]["errordetails"][0]
        assert (detail["code"], detail["severity"], detail["transition"]) == (code, "error", False)
    both = error_of(s4.post(ORDERS, {**s4.order, "to_Item": [{"Material": "UNKNOWN"}]}))
    assert [d["code"] for d in both["innererror"]["errordetails"]] == ["V1/392", "V1/380"]
    malformed = s4.http.post(
        ORDERS, content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and malformed.json()["error"]["code"].startswith("/IWBEP/")


def test_item11_sap_message_header_on_create(s4) -> None:
    response = s4.post(ORDERS, s4.order)
    message = json.loads(response.headers["sap-message"])
    number = response.json()["d"]["SalesOrder"]
    assert message["code"] == "V1/311" and message["severity"] == "success"
    assert number in message["message"] and message["details"] == []
    unpriced = s4.post(
        ORDERS,
        {
            **s4.order,
            "SalesOrganization": "1010",
            "SoldToParty": "17100004",
            "to_Item": [{"Material": "MZ-FG-M550", "RequestedQuantity": "1"}],
        },
    )
    assert unpriced.status_code == 201
    warning = json.loads(unpriced.headers["sap-message"])["details"][0]
    assert (warning["code"], warning["severity"]) == ("V1/801", "warning")


def test_item12_business_partner_deep_create(s4) -> None:
    s4.fetch_token("API_BUSINESS_PARTNER")
    body = {
        "BusinessPartnerCategory": "2",
        "BusinessPartnerGrouping": "BP02",
        "OrganizationBPName1": "Contoso Ltd",
        "BusinessPartnerIDByExtSystem": "D365-ACC-1",
        "to_BusinessPartnerRole": {
            "results": [{"BusinessPartnerRole": "FLCU00"}, {"BusinessPartnerRole": "FLCU01"}]
        },
        "to_BusinessPartnerAddress": {
            "results": [
                {
                    "Country": "DE",
                    "StreetName": "Dietmar-Hopp-Allee 16",
                    "PostalCode": "69190",
                    "CityName": "Walldorf",
                    "to_EmailAddress": {"results": [{"EmailAddress": "ap@contoso.example"}]},
                }
            ]
        },
    }
    created = s4.post("API_BUSINESS_PARTNER/A_BusinessPartner", body)
    assert created.status_code == 201, created.text
    partner = created.json()["d"]
    number = partner["BusinessPartner"]
    assert partner["Customer"] == number and partner["SearchTerm1"] == "CONTOSO LTD"
    assert len(partner["to_BusinessPartnerRole"]["results"]) == 2
    address = partner["to_BusinessPartnerAddress"]["results"][0]
    mails = s4.http.get(
        f"API_BUSINESS_PARTNER/A_BusinessPartnerAddress(BusinessPartner='{number}',AddressID='{address['AddressID']}')"
        "/to_EmailAddress"
    ).json()["d"]["results"]
    assert mails[0]["EmailAddress"] == "ap@contoso.example"
    assert s4.http.get(f"API_BUSINESS_PARTNER/A_Customer('{number}')").status_code == 200
    area = s4.post(
        f"API_BUSINESS_PARTNER/A_Customer('{number}')/to_CustomerSalesArea",
        {"SalesOrganization": "1710", "DistributionChannel": "10", "Division": "00"},
    )
    assert area.status_code == 201 and area.json()["d"]["Currency"] == "USD"
    found = s4.http.get(
        "API_BUSINESS_PARTNER/A_BusinessPartner",
        params={"$filter": "BusinessPartnerIDByExtSystem eq 'D365-ACC-1'"},
    ).json()["d"]["results"]
    assert [p["BusinessPartner"] for p in found] == [number]
    s4.fetch_token()
    assert s4.post(ORDERS, {**s4.order, "SoldToParty": number}).status_code == 201
    s4.fetch_token("API_BUSINESS_PARTNER")
    duplicate = s4.post(
        "API_BUSINESS_PARTNER/A_BusinessPartner", {**body, "BusinessPartner": number}
    )
    assert duplicate.status_code == 400 and duplicate.json()["error"]["code"] == "R1/286"
    assert s4.http.delete(f"API_BUSINESS_PARTNER/A_BusinessPartner('{number}')").status_code == 405


def stock_of(s4, material: str, plant: str) -> Decimal:
    rows = s4.http.get(
        "API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod",
        params={"$filter": f"Material eq '{material}' and Plant eq '{plant}'"},
    ).json()["d"]["results"]
    return sum((Decimal(r["MatlWrhsStkQtyInMatlBaseUnit"]) for r in rows), Decimal(0))


def test_item13_product_and_stock(s4) -> None:
    created = s4.post(
        "API_PRODUCT_SRV/A_Product",
        {
            "Product": "ISTHMUS-1",
            "ProductType": "HAWA",
            "BaseUnit": "PC",
            "to_Description": {
                "results": [{"Language": "EN", "ProductDescription": "Isthmus demo"}]
            },
        },
    )
    assert created.status_code == 201
    description = s4.http.get("API_PRODUCT_SRV/A_Product('ISTHMUS-1')/to_Description").json()["d"][
        "results"
    ]
    assert description[0]["ProductDescription"] == "Isthmus demo"
    assert s4.http.delete("API_PRODUCT_SRV/A_Product('ISTHMUS-1')").status_code == 405
    assert (
        s4.post("API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod", {"Material": "TG11"}).status_code
        == 405
    )
    assert stock_of(s4, "TG11", "1710") == Decimal(500)
    counted = s4.sandbox.admin.request(
        "PUT", "/stock", {"material": "TG11", "plant": "1710", "quantity": "20"}
    )
    assert counted["unrestricted"] == "20.00000000000000"
    assert stock_of(s4, "TG11", "1710") == Decimal(20)
    order = s4.create_order(to_Item=[{"Material": "TG11", "RequestedQuantity": "25"}])["SalesOrder"]
    delivery = s4.post(
        "API_OUTBOUND_DELIVERY_SRV/A_OutbDeliveryHeader",
        {"to_DeliveryDocumentItem": {"results": [{"ReferenceSDDocument": order}]}},
    )
    number = delivery.json()["d"]["DeliveryDocument"]
    deficit = s4.http.post(
        "API_OUTBOUND_DELIVERY_SRV/PostGoodsIssue",
        params={"DeliveryDocument": f"'{number}'"},
        headers={"If-Match": delivery.headers["etag"]},
    )
    assert deficit.status_code == 400 and deficit.json()["error"]["code"] == "M7/021"
    assert stock_of(s4, "TG11", "1710") == Decimal(20)


def deliver_and_issue(s4, order: str) -> str:
    delivery = s4.post(
        "API_OUTBOUND_DELIVERY_SRV/A_OutbDeliveryHeader",
        {"to_DeliveryDocumentItem": {"results": [{"ReferenceSDDocument": order}]}},
    )
    assert delivery.status_code == 201, delivery.text
    number = delivery.json()["d"]["DeliveryDocument"]
    issued = s4.http.post(
        "API_OUTBOUND_DELIVERY_SRV/PostGoodsIssue",
        params={"DeliveryDocument": f"'{number}'"},
        headers={"If-Match": delivery.headers["etag"]},
    )
    assert issued.status_code == 200, issued.text
    return str(number)


def test_item14_delivery_goods_issue_and_billing(s4) -> None:
    order = s4.create_order(to_Item=[{"Material": "TG11", "RequestedQuantity": "7"}])["SalesOrder"]
    delivery = s4.post(
        "API_OUTBOUND_DELIVERY_SRV/A_OutbDeliveryHeader",
        {"to_DeliveryDocumentItem": {"results": [{"ReferenceSDDocument": order}]}},
    )
    number = delivery.json()["d"]["DeliveryDocument"]
    pgi = "API_OUTBOUND_DELIVERY_SRV/PostGoodsIssue"
    assert s4.http.post(pgi, params={"DeliveryDocument": f"'{number}'"}).status_code == 428
    assert (
        s4.http.post(
            pgi, params={"DeliveryDocument": f"'{number}'"}, headers={"If-Match": "W/\"'0009'\""}
        ).status_code
        == 412
    )
    done = s4.http.post(
        pgi,
        params={"DeliveryDocument": f"'{number}'"},
        headers={"If-Match": delivery.headers["etag"]},
    )
    assert done.json()["d"]["results"][0]["ActualDeliveryQuantity"] == "7.000"
    assert stock_of(s4, "TG11", "1710") == Decimal(493)
    header = s4.http.get(f"API_OUTBOUND_DELIVERY_SRV/A_OutbDeliveryHeader('{number}')").json()["d"]
    assert header["OverallGoodsMovementStatus"] == "C" and header["DeliveryVersion"] == "0002"
    assert s4.http.get(f"{ORDERS}('{order}')").json()["d"]["OverallTotalDeliveryStatus"] == "C"
    (billing,) = s4.sandbox.admin.billing_run()
    document = s4.http.get(
        f"API_BILLING_DOCUMENT_SRV/A_BillingDocument('{billing}')", params={"$expand": "to_Item"}
    ).json()["d"]
    assert (
        document["SoldToParty"],
        document["TotalNetAmount"],
        document["BillingDocumentType"],
    ) == ("17100001", "385.000", "F2")
    assert document["to_Item"]["results"][0]["ReferenceSDDocument"] == number
    assert document["AccountingDocument"]
    assert s4.sandbox.admin.billing_run() == []
    blocked = s4.http.delete(f"{ORDERS}('{order}')", headers={"If-Match": "*"})
    assert blocked.status_code == 400 and blocked.json()["error"]["code"] == "V1/123"
    assert s4.post("API_BILLING_DOCUMENT_SRV/A_BillingDocument", {}).status_code == 405


BATCH = """--batch_1\r
Content-Type: application/http\r
Content-Transfer-Encoding: binary\r
\r
GET A_SalesOrder?$top=1&$format=json HTTP/1.1\r
Accept: application/json\r
\r
\r
--batch_1\r
Content-Type: multipart/mixed; boundary=changeset_1\r
\r
--changeset_1\r
Content-Type: application/http\r
Content-Transfer-Encoding: binary\r
Content-ID: 1\r
\r
POST A_SalesOrder HTTP/1.1\r
Content-Type: application/json\r
Accept: application/json\r
\r
{order}\r
--changeset_1\r
Content-Type: application/http\r
Content-Transfer-Encoding: binary\r
\r
POST A_SalesOrder HTTP/1.1\r
Content-Type: application/json\r
Accept: application/json\r
\r
{second}\r
--changeset_1--\r
--batch_1--\r
"""


def run_batch(s4, second: dict[str, Any]) -> httpx.Response:
    body = BATCH.replace("{order}", json.dumps(s4.order)).replace("{second}", json.dumps(second))
    response: httpx.Response = s4.http.post(
        "API_SALES_ORDER_SRV/$batch",
        content=body.encode(),
        headers={"Content-Type": "multipart/mixed; boundary=batch_1"},
    )
    return response


def test_item15_batch_changesets_are_atomic(s4) -> None:
    good = run_batch(s4, {**s4.order, "PurchaseOrderByCustomer": "SECOND"})
    assert good.status_code == 202
    assert good.headers["content-type"].startswith("multipart/mixed; boundary=batch_")
    text = good.text
    assert text.count("HTTP/1.1 201 Created") == 2 and "HTTP/1.1 200 OK" in text
    assert "Content-Type: multipart/mixed; boundary=changeset_" in text
    assert order_count(s4) == 2
    bad = run_batch(s4, {**s4.order, "SoldToParty": "99999999"})
    assert bad.status_code == 202
    assert (
        "HTTP/1.1 201 Created" not in bad.text and bad.text.count("HTTP/1.1 400 Bad Request") == 1
    )
    assert '"Batch_SAP_Note"' in bad.text
    assert order_count(s4) == 2
    del s4.http.headers["X-CSRF-Token"]
    assert run_batch(s4, s4.order).status_code == 403


SOAP = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
 xmlns:sfin="http://sap.com/xi/SAPSCORE/SFIN"><soapenv:Header/><soapenv:Body>
<sfin:JournalEntryBulkCreateRequest>
 <MessageHeader><ID>BULK-1</ID><CreationDateTime>2025-01-15T10:00:00Z</CreationDateTime></MessageHeader>
 <JournalEntryCreateRequest>
  <MessageHeader><ID>JE-1</ID><CreationDateTime>2025-01-15T10:00:00Z</CreationDateTime></MessageHeader>
  <JournalEntry>
   <OriginalReferenceDocumentType>BKPFF</OriginalReferenceDocumentType>
   <OriginalReferenceDocument>INV-1001</OriginalReferenceDocument>
   <OriginalReferenceDocumentLogicalSystem>ISTHMUS</OriginalReferenceDocumentLogicalSystem>
   <BusinessTransactionType>RFBU</BusinessTransactionType>
   <AccountingDocumentType>SA</AccountingDocumentType>
   <DocumentReferenceID>INV-1001</DocumentReferenceID>
   <CreatedByUser>ISTHMUS</CreatedByUser>
   <CompanyCode>{company}</CompanyCode>
   <DocumentDate>2025-01-15</DocumentDate>
   <PostingDate>2025-01-15</PostingDate>
   <Item><ReferenceDocumentItem>1</ReferenceDocumentItem><GLAccount>12100000</GLAccount>
    <AmountInTransactionCurrency currencyCode="EUR">{debit}</AmountInTransactionCurrency>
    <DebitCreditCode>S</DebitCreditCode><DocumentItemText>Invoice INV-1001</DocumentItemText></Item>
   <Item><ReferenceDocumentItem>2</ReferenceDocumentItem><GLAccount>41000000</GLAccount>
    <AmountInTransactionCurrency currencyCode="EUR">-100.00</AmountInTransactionCurrency>
    <DebitCreditCode>H</DebitCreditCode>
    <AccountAssignment><ProfitCenter>YB101</ProfitCenter></AccountAssignment></Item>
  </JournalEntry>
 </JournalEntryCreateRequest>
</sfin:JournalEntryBulkCreateRequest></soapenv:Body></soapenv:Envelope>"""


def test_item17_journal_entry_soap_and_read(s4) -> None:
    url = f"{s4.sandbox.base_url}/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
    with httpx.Client(verify=s4.sandbox.ssl_context(), auth=s4.sandbox.basic_auth) as http:
        wsdl = http.get(url, params={"wsdl": ""})
        assert "JournalEntryCreateRequestConfirmation_In" in wsdl.text
        posted = http.post(
            url,
            content=SOAP.replace("{company}", "1010").replace("{debit}", "100.00"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        assert posted.status_code == 200
        assert posted.headers["content-type"].startswith("text/xml")
        document = re.search(r"<AccountingDocument>(\d{10})</AccountingDocument>", posted.text)
        assert document and document.group(1) != "0000000000"
        assert "<CompanyCode>1010</CompanyCode><FiscalYear>2025</FiscalYear>" in posted.text
        assert "<MaximumLogItemSeverityCode>1</MaximumLogItemSeverityCode>" in posted.text
        unbalanced = http.post(
            url, content=SOAP.replace("{company}", "1010").replace("{debit}", "90.00")
        )
        assert "<AccountingDocument>0000000000</AccountingDocument>" in unbalanced.text
        assert "<MaximumLogItemSeverityCode>3</MaximumLogItemSeverityCode>" in unbalanced.text
        fault = http.post(url, content=b"<not-soap/>")
        assert fault.status_code == 500 and "<faultstring>" in fault.text
        assert http.post(url, content=b"", auth=("x", "y")).status_code == 401
    lines = s4.http.get(
        "API_JOURNALENTRYITEMBASIC_SRV/A_JournalEntryItemBasic",
        params={
            "$filter": f"AccountingDocument eq '{document.group(1)}' and CompanyCode eq '1010'",
            "$orderby": "LedgerGLLineItem",
        },
    ).json()["d"]["results"]
    assert [
        (r["GLAccount"], r["DebitCreditCode"], r["AmountInCompanyCodeCurrency"]) for r in lines
    ] == [("12100000", "S", "100.000"), ("41000000", "H", "-100.000")]
    assert lines[0]["FiscalPeriod"] == "001" and lines[1]["ProfitCenter"] == "YB101"
