"""Contract tests for the Web API (README checklist 6-14), with httpx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from isthmus.sandbox_d365.business.seed import sid
from isthmus.testing.sandbox_d365 import SandboxD365

pytestmark = pytest.mark.integration

ACCOUNT = sid("account:C-10001")
PRICE_LIST = sid("pricelevel:default")
USD = sid("currency:USD")
BIKE = sid("product:TG11")
NOTEBOOK = sid("product:HT-1000")
PRIMARY_UNIT = sid("uom:primary")
REPRESENTATION = {"Prefer": "return=representation"}
SAMPLES = Path(__file__).resolve().parents[3] / "services/sandbox-d365/samples"


@pytest.fixture
def api(sandbox_d365_clean: SandboxD365) -> Iterator[httpx.Client]:
    with sandbox_d365_clean.api_client() as client:
        yield client


def _order(api: httpx.Client, **extra: object) -> dict[str, object]:
    body = {
        "name": "Web order 1001",
        "customerid_account@odata.bind": f"/accounts({ACCOUNT})",
        "pricelevelid@odata.bind": f"/pricelevels({PRICE_LIST})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({USD})",
        "requestdeliveryby": "2025-07-01",
        "order_details": [
            {
                "productid@odata.bind": f"/products({BIKE})",
                "uomid@odata.bind": f"/uoms({PRIMARY_UNIT})",
                "quantity": 2,
            },
            {
                "productid@odata.bind": f"/products({NOTEBOOK})",
                "quantity": 1,
                "priceperunit": 900.0,
                "ispriceoverridden": True,
                "manualdiscountamount": 50.0,
                "tax": 10.0,
            },
        ],
        **extra,
    }
    response = api.post("salesorders", json=body, headers=REPRESENTATION)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_item_06_base_path_headers_and_error_shape(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    for version in ("v9.0", "v9.1", "v9.2"):
        response = api.get(f"{sandbox_d365_clean.base_url}/api/data/{version}/accounts?$top=1")
        assert response.status_code == 200
        assert response.headers["OData-Version"] == "4.0"
        assert response.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    metadata = api.get("$metadata")
    assert metadata.headers["Content-Type"] == "application/xml"
    assert (
        '<EntitySet Name="salesorders" EntityType="Microsoft.Dynamics.CRM.salesorder"/>'
        in metadata.text
    )
    service = api.get(f"{sandbox_d365_clean.api_url}/").json()
    assert {"name": "accounts", "kind": "EntitySet", "url": "accounts"} in service["value"]
    missing = api.get("nosuchtables")
    assert missing.status_code == 404
    assert set(missing.json()) == {"error"}
    assert set(missing.json()["error"]) == {"code", "message"}
    assert missing.headers["OData-Version"] == "4.0"


def test_item_07_entity_sets_and_server_generated_keys(api: httpx.Client) -> None:
    for entity_set in (
        "accounts",
        "contacts",
        "products",
        "uoms",
        "uomschedules",
        "pricelevels",
        "transactioncurrencies",
        "salesorders",
        "salesorderdetails",
        "invoices",
        "invoicedetails",
    ):
        assert api.get(entity_set).status_code == 200, entity_set
    created = api.post("accounts", json={"name": "Generated key"}, headers=REPRESENTATION).json()
    assert len(created["accountid"]) == 36
    chosen = "0d0d0d0d-aaaa-bbbb-cccc-000000000001"
    api.post("accounts", json={"accountid": chosen, "name": "Chosen key"}).raise_for_status()
    assert api.get(f"accounts({chosen})").json()["name"] == "Chosen key"


def test_item_08_post_204_with_entity_id_or_201_with_representation(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    plain = api.post("accounts", json={"name": "Contoso", "accountnumber": "A-1000"})
    assert plain.status_code == 204
    assert plain.content == b""
    assert plain.headers["OData-EntityId"].startswith(f"{sandbox_d365_clean.api_url}/accounts(")
    rich = api.post("accounts?$select=name", json={"name": "Fabrikam"}, headers=REPRESENTATION)
    assert rich.status_code == 201
    body = rich.json()
    assert body["@odata.context"].endswith("/$metadata#accounts(name)/$entity")
    assert body["@odata.etag"].startswith('W/"')
    assert set(body) == {"@odata.context", "@odata.etag", "name", "accountid"}
    assert "OData-EntityId" not in rich.headers


def test_item_09_get_by_id_and_alternate_key(api: httpx.Client) -> None:
    by_id = api.get(f"accounts({ACCOUNT})?$select=name,accountnumber")
    assert by_id.json()["accountnumber"] == "C-10001"
    assert api.get("accounts(accountnumber='C-10001')").json()["accountid"] == ACCOUNT
    assert api.get("accounts(isthmus_s4businesspartner='17100001')").json()["accountid"] == ACCOUNT
    assert api.get("products(productnumber='TG11')").json()["productid"] == BIKE
    missing = api.get("accounts(00000000-0000-0000-0000-0000000000aa)")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "code": "0x80040217",
        "message": "account With Id = 00000000-0000-0000-0000-0000000000aa Does Not Exist",
    }
    assert api.get("accounts(accountnumber='NOPE')").json()["error"]["code"] == "0x80040217"
    assert api.get("accounts(telephone1='1')").status_code == 400


def test_item_10_upsert_and_conditional_writes(api: httpx.Client) -> None:
    url = "accounts(accountnumber='UP-1')"
    assert api.patch(url, json={"name": "Upserted"}, headers={"If-Match": "*"}).status_code == 404
    created = api.patch(url, json={"name": "Upserted"}, headers=REPRESENTATION)
    assert created.status_code == 201
    etag = created.json()["@odata.etag"]
    assert api.patch(url, json={"name": "Again"}).status_code == 204
    assert api.patch(url, json={"name": "x"}, headers={"If-None-Match": "*"}).json()["error"][
        "message"
    ] == ("A record with matching key values already exists.")
    stale = api.patch(url, json={"name": "Stale"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["error"]["message"] == (
        "The version of the existing record doesn't match the RowVersion property provided."
    )
    updated = api.patch(
        url, json={"name": "Changed", "accountnumber": "OTHER"}, headers=REPRESENTATION
    )
    assert updated.status_code == 200
    assert updated.json()["accountnumber"] == "UP-1"
    current = api.get(url)
    assert api.get(url, headers={"If-None-Match": current.headers["ETag"]}).status_code == 304
    assert api.delete(url, headers={"If-Match": etag}).status_code == 412
    assert api.delete(url, headers={"If-Match": current.headers["ETag"]}).status_code == 204
    assert api.get(url).status_code == 404


def test_item_11_odata_bind_lookups_and_deep_insert(api: httpx.Client) -> None:
    order = _order(api)
    assert order["_customerid_value"] == ACCOUNT
    assert order["_pricelevelid_value"] == PRICE_LIST
    assert order["_transactioncurrencyid_value"] == USD
    lines = api.get(f"salesorders({order['salesorderid']})/order_details").json()["value"]
    assert len(lines) == 2
    assert {line["_productid_value"] for line in lines} == {BIKE, NOTEBOOK}
    assert all(line["_salesorderid_value"] == order["salesorderid"] for line in lines)
    contact = api.post(
        "contacts",
        headers=REPRESENTATION,
        json={
            "firstname": "Jo",
            "lastname": "Doe",
            "parentcustomerid_account@odata.bind": "accounts(accountnumber='C-10001')",
        },
    ).json()
    assert contact["_parentcustomerid_value"] == ACCOUNT
    assert contact["fullname"] == "Jo Doe"
    product = api.post(
        "products",
        headers=REPRESENTATION,
        json={
            "name": "New",
            "productnumber": "NEW-1",
            "quantitydecimal": 0,
            "defaultuomscheduleid@odata.bind": f"/uomschedules({sid('uomschedule:default')})",
            "defaultuomid@odata.bind": f"/uoms({PRIMARY_UNIT})",
        },
    ).json()
    assert product["_defaultuomid_value"] == PRIMARY_UNIT
    wrong = api.post(
        "salesorders", json={"name": "x", "customerid@odata.bind": f"/accounts({ACCOUNT})"}
    )
    assert wrong.status_code == 400
    gone = api.post(
        "salesorders",
        json={
            "name": "x",
            "customerid_account@odata.bind": "/accounts(00000000-0000-0000-0000-000000000009)",
        },
    )
    assert gone.status_code == 404
    direct = api.post("salesorders", json={"name": "x", "_customerid_value": ACCOUNT})
    assert direct.status_code == 400


def test_representation_of_a_deep_insert_can_expand_its_lines(api: httpx.Client) -> None:
    response = api.post(
        "salesorders?$select=name,totalamount&$expand=order_details($select=quantity,baseamount)",
        json={
            "name": "Expanded",
            "pricelevelid@odata.bind": f"/pricelevels({PRICE_LIST})",
            "order_details": [{"productid@odata.bind": f"/products({BIKE})", "quantity": 1}],
        },
        headers=REPRESENTATION,
    )
    body = response.json()
    assert body["totalamount"] == 1199.0
    assert [(line["quantity"], line["baseamount"]) for line in body["order_details"]] == [
        (1.0, 1199.0)
    ]


def test_item_12_computed_fields(api: httpx.Client) -> None:
    order = _order(api, freightamount=20.0)
    assert str(order["ordernumber"]).startswith("ORD-")
    lines = {
        line["_productid_value"]: line
        for line in api.get(f"salesorders({order['salesorderid']})/order_details").json()["value"]
    }
    assert lines[BIKE]["priceperunit"] == 1199.0
    assert lines[BIKE]["baseamount"] == 2398.0
    assert lines[BIKE]["extendedamount"] == 2398.0
    assert lines[NOTEBOOK]["extendedamount"] == 900.0 - 50.0 + 10.0
    header = api.get(f"salesorders({order['salesorderid']})").json()
    assert header["totallineitemamount"] == 2398.0 + 850.0
    assert header["totaltax"] == 10.0
    assert header["totalamount"] == 2398.0 + 850.0 + 10.0 + 20.0
    rejected = api.patch(f"salesorders({order['salesorderid']})", json={"ordernumber": "ORD-X"})
    assert rejected.status_code == 400
    for column, value in (("statecode", 1), ("totalamount", 5.0)):
        bad = api.post("salesorders", json={"name": "bad", column: value})
        assert bad.status_code == 400, column
    invoice = api.post("invoices", json={"name": "Invoice"}, headers=REPRESENTATION).json()
    assert str(invoice["invoicenumber"]).startswith("INV-")


def test_item_13_query_options_and_paging(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    products = api.get(
        "products?$select=productnumber,price&$filter=price gt 500 and price le 1200"
        "&$orderby=price desc"
    ).json()
    assert [p["productnumber"] for p in products["value"]] == ["TG11", "HT-1000", "TG12"]
    text = api.get(
        "accounts?$select=name&$filter=contains(name,'bike') or startswith(name,'contoso')"
    ).json()
    assert {a["name"] for a in text["value"]} == {"Fabrikam Bikes Ltd", "Contoso Retail GmbH"}
    by_guid = api.get(
        f"contacts?$select=fullname&$filter=_parentcustomerid_value eq {ACCOUNT}"
    ).json()
    assert [c["fullname"] for c in by_guid["value"]] == ["Anna Schmidt"]
    negated = api.get(
        "accounts?$filter=not (isthmus_s4businesspartner ne null)&$select=name"
    ).json()
    assert [a["name"] for a in negated["value"]] == ["Northwind Traders"]
    top = api.get("products?$top=2&$count=true").json()
    assert len(top["value"]) == 2
    assert top["@odata.count"] == 6
    expanded = api.get(
        "contacts?$select=fullname&$expand=parentcustomerid_account($select=name)"
        f"&$filter=_parentcustomerid_value eq {ACCOUNT}"
    ).json()
    assert expanded["value"][0]["parentcustomerid_account"]["name"] == "Contoso Retail GmbH"
    nested = api.get(
        f"accounts({ACCOUNT})?$select=name&$expand=contact_customer_accounts("
        "$select=fullname;$filter=startswith(lastname,'S');$orderby=fullname desc)"
    ).json()
    assert [c["fullname"] for c in nested["contact_customer_accounts"]] == ["Anna Schmidt"]
    assert api.get("accounts?$skip=1").status_code == 400
    assert api.get("accounts?$filter=name eq 5").status_code == 400
    assert (
        api.get("accounts?$filter=nosuch eq 'x'")
        .json()["error"]["message"]
        .startswith("Could not find a property named 'nosuch'")
    )
    seen: list[str] = []
    page = api.get("products?$select=name", headers={"Prefer": "odata.maxpagesize=4"})
    assert page.headers["Preference-Applied"] == "odata.maxpagesize=4"
    body = page.json()
    seen += [p["productid"] for p in body["value"]]
    assert "$skiptoken=" in body["@odata.nextLink"]
    assert body["@odata.nextLink"].startswith(f"{sandbox_d365_clean.api_url}/products?")
    body = api.get(body["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=4"}).json()
    seen += [p["productid"] for p in body["value"]]
    assert "@odata.nextLink" not in body
    assert len(seen) == len(set(seen)) == 6


def test_item_14_annotations_on_request(api: httpx.Client) -> None:
    plain = api.get(
        f"accounts({ACCOUNT})?$select=paymenttermscode,_defaultpricelevelid_value,creditlimit"
    ).json()
    assert not any("@" in k for k in plain if k not in {"@odata.etag", "@odata.context"})
    api.patch(f"accounts({ACCOUNT})", json={"creditlimit": 45000})
    annotated = api.get(
        f"accounts({ACCOUNT})?$select=paymenttermscode,_defaultpricelevelid_value,creditlimit",
        headers={"Prefer": 'odata.include-annotations="*"'},
    ).json()
    assert annotated["paymenttermscode@OData.Community.Display.V1.FormattedValue"] == "Net 30"
    assert annotated["creditlimit@OData.Community.Display.V1.FormattedValue"] == "$45,000.00"
    assert (
        annotated["_defaultpricelevelid_value@OData.Community.Display.V1.FormattedValue"]
        == "Default Price List (USD)"
    )
    assert (
        annotated["_defaultpricelevelid_value@Microsoft.Dynamics.CRM.lookuplogicalname"]
        == "pricelevel"
    )
    only_formatted = api.get(
        f"accounts({ACCOUNT})?$select=_defaultpricelevelid_value",
        headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
    ).json()
    assert (
        "_defaultpricelevelid_value@Microsoft.Dynamics.CRM.lookuplogicalname" not in only_formatted
    )
    assert "_defaultpricelevelid_value@OData.Community.Display.V1.FormattedValue" in only_formatted


def test_fulfill_sales_order_and_invoice_paid(api: httpx.Client) -> None:
    order = _order(api)
    order_id = order["salesorderid"]
    written_back = api.patch(
        f"salesorders({order_id})", json={"isthmus_s4salesorder": "5000123", "isthmus_s4status": 2}
    )
    assert written_back.status_code == 204
    assert api.get("salesorders(isthmus_s4salesorder='5000123')").json()["salesorderid"] == order_id
    close = {
        "OrderClose": {
            "@odata.type": "Microsoft.Dynamics.CRM.orderclose",
            "subject": "Shipped",
            "salesorderid@odata.bind": f"/salesorders({order_id})",
        },
        "Status": 100001,
    }
    assert api.post("FulfillSalesOrder", json=close).status_code == 204
    fulfilled = api.get(
        f"salesorders({order_id})?$select=statecode,statuscode,datefulfilled"
    ).json()
    assert (fulfilled["statecode"], fulfilled["statuscode"]) == (3, 100001)
    assert fulfilled["datefulfilled"]
    assert api.post("FulfillSalesOrder", json=close).status_code == 400
    line = api.get(f"salesorders({order_id})/order_details").json()["value"][0]
    assert (
        api.patch(
            f"salesorderdetails({line['salesorderdetailid']})", json={"quantity": 5}
        ).status_code
        == 400
    )
    invoice = api.post("ConvertSalesOrderToInvoice", json={"SalesOrderId": order_id}).json()
    assert invoice["totalamount"] == order["totalamount"]
    paid = api.patch(
        f"invoices({invoice['invoiceid']})", json={"statecode": 2, "statuscode": 100001}
    )
    assert paid.status_code == 204
    bad = api.patch(f"invoices({invoice['invoiceid']})", json={"statecode": 2, "statuscode": 1})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("POST", "accounts", b"{not json"),
        ("POST", "accounts", b"[1, 2]"),
        ("GET", "accounts(", None),
        ("GET", "accounts(abc)", None),
        ("PATCH", "accounts", b"{}"),
        ("GET", "accounts?$top=-1", None),
        ("GET", "accounts?$filter=((((", None),
        ("GET", "accounts?$filter=createdon gt 2024-13-45T00:00:00Z", None),
        ("POST", "accounts", b'{"name": "x", "creditlimit": 1e999}'),
        ("POST", "accounts", b'{"name": "x", "accountid": "not-a-guid"}'),
        ("POST", "salesorders", b'{"name": "x", "order_details": [1]}'),
        ("POST", "salesorders", b'{"name": "x", "pricelevelid@odata.bind": "garbage"}'),
        ("POST", "$batch", b"garbage"),
        ("POST", "FulfillSalesOrder", b"[]"),
        ("GET", "accounts?$skiptoken=garbage", None),
        ("GET", "accounts?$deltatoken=garbage", None),
    ],
)
def test_bad_requests_get_dataverse_error_shapes(
    api: httpx.Client, method: str, url: str, body: bytes | None
) -> None:
    response = api.request(method, url, content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["message"]


def test_paged_collection_has_the_shape_of_the_documented_sample(api: httpx.Client) -> None:
    sample = json.loads((SAMPLES / "d365-response-1.json").read_text())
    response = api.get(
        "contacts?$select=fullname,jobtitle,annualincome&$count=true",
        headers={
            "Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue",'
            "odata.maxpagesize=2"
        },
    )
    body = response.json()
    assert set(sample) <= set(body)
    assert body["@odata.context"].endswith("$metadata#contacts(fullname,jobtitle,annualincome)")
    assert set(body["value"][0]) == set(sample["value"][0])
    assert (
        body["value"][0]["annualincome@OData.Community.Display.V1.FormattedValue"] == "$52,000.00"
    )
    assert body["value"][0][
        "_transactioncurrencyid_value@OData.Community.Display.V1.FormattedValue"
    ] == ("US Dollar")
    assert "%3Ccookie%20pagenumber=%222%22" in body["@odata.nextLink"]


def test_throttling_error_has_the_shape_of_the_captured_sample(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    sample = json.loads((SAMPLES / "d365-error-3.json").read_text())
    sandbox_d365_clean.admin.set_throttling(
        requests=1, execution_ms=10_000_000, window_s=300, concurrency=52
    )
    api.get("WhoAmI")
    throttled = api.get("WhoAmI").json()
    assert throttled["error"]["code"] == sample["error"]["code"]
    assert throttled["error"]["message"].replace(" 1 ", " 8000 ") == sample["error"]["message"]


def test_composite_alternate_key(api: httpx.Client) -> None:
    url = "contacts(firstname='Anna',emailaddress1='anna.schmidt@contoso.example')"
    assert api.get(url).json()["lastname"] == "Schmidt"
    assert api.get("contacts(emailaddress1='anna.schmidt@contoso.example')").status_code == 400
    created = api.patch(
        "contacts(firstname='O''Brien',emailaddress1='ob@example.com')",
        json={"lastname": "Kelly"},
        headers=REPRESENTATION,
    )
    assert created.status_code == 201
    assert created.json()["firstname"] == "O'Brien"


def test_paging_cookie_continues_after_the_last_row_seen(api: httpx.Client) -> None:
    prefer = {"Prefer": "odata.maxpagesize=4"}
    first = api.get("products?$select=productnumber", headers=prefer).json()
    seen = [p["productnumber"] for p in first["value"]]
    api.delete(f"products({first['value'][0]['productid']})").raise_for_status()
    second = api.get(first["@odata.nextLink"], headers=prefer).json()
    rest = [p["productnumber"] for p in second["value"]]
    assert len(seen) == 4
    assert len(rest) == 2
    assert not set(seen) & set(rest)
