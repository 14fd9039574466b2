"""Contract tests for README checklist 1-8 (auth, CSRF, OData V2 core)."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from isthmus.testing.sandbox_s4 import SandboxS4

SERVICES = [
    "API_SALES_ORDER_SRV",
    "API_BUSINESS_PARTNER",
    "API_PRODUCT_SRV",
    "API_MATERIAL_STOCK_SRV",
    "API_BILLING_DOCUMENT_SRV",
    "API_OUTBOUND_DELIVERY_SRV",
]
ATOM = "http://www.w3.org/2005/Atom"
META = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
DATA = "http://schemas.microsoft.com/ado/2007/08/dataservices"
REFERENCE = (
    Path(__file__).resolve().parents[3] / "services/sandbox-s4/src/isthmus/sandbox_s4/metadata"
)


def client(sandbox: SandboxS4, **kwargs) -> httpx.Client:
    return httpx.Client(
        base_url=sandbox.base_url, verify=sandbox.ssl_context(), timeout=30, **kwargs
    )


def test_item01_basic_and_oauth_client_credentials(sandbox_s4: SandboxS4) -> None:
    url = "/sap/opu/odata/sap/API_PRODUCT_SRV/A_Product('TG11')?$format=json&sap-client=100"
    with client(sandbox_s4) as http:
        assert http.get(url, auth=sandbox_s4.basic_auth).status_code == 200
        denied = http.get(url, auth=(sandbox_s4.user, "wrong"))
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("Basic realm=")
        assert http.get(url).status_code == 401
        token = http.post(
            "/sap/bc/sec/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(sandbox_s4.client_id, sandbox_s4.client_secret),
        )
        assert token.status_code == 200
        body = token.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] > 0
        bearer = {"Authorization": f"Bearer {body['access_token']}"}
        assert http.get(url, headers=bearer).json()["d"]["Product"] == "TG11"
        bad = http.post(
            "/sap/bc/sec/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(sandbox_s4.client_id, "nope"),
        )
        assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
        scoped = http.post(
            "/sap/bc/sec/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "scope": "API_SALES_ORDER_SRV_0001",
                "client_id": sandbox_s4.client_id,
                "client_secret": sandbox_s4.client_secret,
            },
        ).json()
        forbidden = http.get(url, headers={"Authorization": f"Bearer {scoped['access_token']}"})
        assert forbidden.status_code == 403
        assert forbidden.json()["error"]["code"] == "/IWFND/CM_CONSUMER/101"
        assert http.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401


def test_item02_csrf_fetch_validation_and_expiry(sandbox_s4_clean: SandboxS4, s4) -> None:
    order_url = "API_SALES_ORDER_SRV/A_SalesOrder"
    with client(sandbox_s4_clean, auth=sandbox_s4_clean.basic_auth) as http:
        missing = http.post(f"/sap/opu/odata/sap/{order_url}", json=s4.order)
        assert missing.status_code == 403
        assert missing.headers["x-csrf-token"] == "Required"
        assert missing.text == "CSRF token validation failed"
        fetched = http.get(
            "/sap/opu/odata/sap/API_SALES_ORDER_SRV/$metadata", headers={"X-CSRF-Token": "fetch"}
        )
        cookies = {c.name for c in http.cookies.jar}
        assert {"SAP_SESSIONID_S4H_100", "sap-XSRF_S4H_100", "sap-usercontext"} <= cookies
        token = fetched.headers["x-csrf-token"]
        ok = http.post(
            f"/sap/opu/odata/sap/{order_url}", json=s4.order, headers={"X-CSRF-Token": token}
        )
        assert ok.status_code == 201
    with client(sandbox_s4_clean, auth=sandbox_s4_clean.basic_auth) as stranger:
        no_cookie = stranger.post(
            f"/sap/opu/odata/sap/{order_url}", json=s4.order, headers={"X-CSRF-Token": token}
        )
        assert no_cookie.status_code == 403 and no_cookie.headers["x-csrf-token"] == "Required"
    sandbox_s4_clean.admin.settings(csrf_ttl_s=0.2)
    s4.fetch_token()
    time.sleep(0.5)
    expired = s4.post(order_url, s4.order)
    assert (expired.status_code, expired.text) == (403, "CSRF token expired")
    s4.fetch_token()
    assert s4.post(order_url, s4.order).status_code == 201


def test_item03_service_roots_serve_the_real_metadata(sandbox_s4: SandboxS4) -> None:
    with client(sandbox_s4, auth=sandbox_s4.basic_auth) as http:
        for service in SERVICES:
            root = http.get(
                f"/sap/opu/odata/sap/{service}/", headers={"Accept": "application/json"}
            )
            assert root.status_code == 200 and root.json()["d"]["EntitySets"]
            metadata = http.get(f"/sap/opu/odata/sap/{service}/$metadata")
            assert metadata.headers["content-type"].startswith("application/xml")
            assert metadata.content == (REFERENCE / f"{service}.edmx").read_bytes()
        unknown = http.get(
            "/sap/opu/odata/sap/API_NOPE_SRV/", headers={"Accept": "application/json"}
        )
        assert unknown.status_code == 403
        assert unknown.json()["error"]["code"] == "/IWBEP/CM_MGW_RT/026"


def test_item04_verbose_json_shapes(s4) -> None:
    created = s4.create_order()
    response = s4.http.get(f"API_SALES_ORDER_SRV/A_SalesOrder('{created['SalesOrder']}')")
    assert response.headers["dataserviceversion"] == "2.0"
    entity = response.json()["d"]
    meta = entity["__metadata"]
    assert meta["type"] == "API_SALES_ORDER_SRV.A_SalesOrderType"
    assert meta["uri"] == meta["id"] and meta["uri"].endswith(
        f"A_SalesOrder('{created['SalesOrder']}')"
    )
    assert re.fullmatch(
        r"W/\"datetimeoffset'\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A\d\d\.\d{7}Z'\"", meta["etag"]
    )
    assert re.fullmatch(r"/Date\(\d+\)/", entity["CreationDate"])
    assert re.fullmatch(r"/Date\(\d+\+0000\)/", entity["LastChangeDateTime"])
    assert entity["TotalNetAmount"] == "110.000"
    assert entity["SalesGroup"] == ""
    assert entity["CustomerPurchaseOrderDate"] is None
    assert entity["to_Item"] == {"__deferred": {"uri": f"{meta['uri']}/to_Item"}}
    collection = s4.http.get("API_SALES_ORDER_SRV/A_SalesOrder").json()["d"]
    assert isinstance(collection["results"], list) and "__count" not in collection
    atom = s4.http.get(
        "API_SALES_ORDER_SRV/A_SalesOrder", headers={"Accept": "application/atom+xml"}
    )
    assert atom.headers["content-type"].startswith("application/atom+xml;type=feed")
    entry = ET.fromstring(atom.content).find(f"{{{ATOM}}}entry")  # noqa: S314 - our own sandbox answer
    assert entry is not None and entry.get(f"{{{META}}}etag") == meta["etag"]
    props = entry.find(f"{{{ATOM}}}content/{{{META}}}properties")
    assert props is not None
    assert props.findtext(f"{{{DATA}}}SalesOrder") == created["SalesOrder"]
    assert props.findtext(f"{{{DATA}}}TotalNetAmount") == "110.000"
    date = props.find(f"{{{DATA}}}CreationDate")
    assert date is not None and date.get(f"{{{META}}}type") == "Edm.DateTime"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00", date.text or "")
    empty = props.find(f"{{{DATA}}}CustomerPurchaseOrderDate")
    assert empty is not None and empty.get(f"{{{META}}}null") == "true"
    xml_body = s4.http.post(
        "API_SALES_ORDER_SRV/A_SalesOrder",
        content=b"<entry/>",
        headers={"Content-Type": "application/atom+xml"},
    )
    assert xml_body.status_code == 415


def test_item05_keys_and_not_found(s4) -> None:
    order = s4.create_order()["SalesOrder"]
    plain = s4.http.get(f"API_SALES_ORDER_SRV/A_SalesOrder('{order}')")
    named = s4.http.get(f"API_SALES_ORDER_SRV/A_SalesOrder(SalesOrder='{order}')")
    assert plain.json() == named.json()
    item = s4.http.get(
        f"API_SALES_ORDER_SRV/A_SalesOrderItem(SalesOrder='{order}',SalesOrderItem='10')"
    )
    assert item.json()["d"]["Material"] == "TG11"
    for path in (
        "A_SalesOrder('999999')",
        "A_SalesOrderType",
        f"A_SalesOrder('{order}')/to_Nothing",
    ):
        missing = s4.http.get(f"API_SALES_ORDER_SRV/{path}")
        assert missing.status_code == 404
        error = missing.json()["error"]
        assert error["code"] == "/IWBEP/CM_MGW_RT/020"
        assert error["innererror"]["application"]["service_id"] == "API_SALES_ORDER_SRV"
        assert error["innererror"]["errordetails"][0]["severity"] == "error"
    outside = s4.http.get(f"{s4.sandbox.base_url}/sap/opu/odata/")
    assert outside.status_code == 404
    assert outside.json()["error"]["code"] == "/IWBEP/CM_MGW_RT/020"


def test_item06_query_options_and_server_paging(s4) -> None:
    for quantity in ("1", "2", "3", "4", "5"):
        s4.create_order(to_Item=[{"Material": "TG12", "RequestedQuantity": quantity}])
    base = "API_SALES_ORDER_SRV/A_SalesOrder"
    params = {
        "$filter": "TotalNetAmount ge 66 and startswith(SoldToParty,'1710')",
        "$orderby": "TotalNetAmount desc",
        "$select": "SalesOrder,TotalNetAmount",
        "$inlinecount": "allpages",
        "$top": "2",
        "$skip": "1",
    }
    body = s4.http.get(base, params=params).json()["d"]
    assert body["__count"] == "4"
    assert [r["TotalNetAmount"] for r in body["results"]] == ["132.000", "99.000"]
    assert set(body["results"][0]) == {"__metadata", "SalesOrder", "TotalNetAmount"}
    assert s4.http.get(f"{base}/$count", params={"$filter": "TotalNetAmount lt 100"}).text == "3"
    for bad in (
        {"$select": "Nope"},
        {"$expand": "to_Item/to_Nope"},
        {"$top": "x"},
        {"$orderby": "Nope"},
    ):
        rejected = s4.http.get(base, params=bad)
        assert rejected.status_code == 400 and rejected.json()["error"]["code"].startswith(
            "/IWBEP/"
        )
    expanded = s4.http.get(
        base, params={"$top": "1", "$expand": "to_Item/to_SalesOrder,to_Partner"}
    ).json()
    item = expanded["d"]["results"][0]["to_Item"]["results"][0]
    assert item["to_SalesOrder"]["SalesOrder"] == item["SalesOrder"]
    assert {p["PartnerFunction"] for p in expanded["d"]["results"][0]["to_Partner"]["results"]} == {
        "AG",
        "RE",
        "RG",
        "WE",
    }
    s4.sandbox.admin.settings(page_size=2)
    seen, url = [], base + "?$orderby=SalesOrder&$select=SalesOrder"
    while url:
        page = s4.http.get(url).json()["d"]
        seen += [r["SalesOrder"] for r in page["results"]]
        url = page.get("__next")
        if url:
            assert "$skiptoken=" in url and url.startswith(s4.sandbox.base_url)
    assert len(seen) == 5 and len(set(seen)) == 5


def test_item07_create_update_delete_status_codes(s4) -> None:
    response = s4.post("API_SALES_ORDER_SRV/A_SalesOrder", {**s4.order, "TotalNetAmount": "1.00"})
    assert response.status_code == 201
    order = response.json()["d"]
    assert response.headers["location"] == order["__metadata"]["uri"]
    assert order["TotalNetAmount"] == "110.000"  # read-only field from the client is ignored
    url = f"API_SALES_ORDER_SRV/A_SalesOrder('{order['SalesOrder']}')"
    tag = response.headers["etag"]
    patched = s4.http.patch(url, json={"PurchaseOrderByCustomer": "P"}, headers={"If-Match": tag})
    assert patched.status_code == 204 and patched.content == b""
    merged = s4.http.post(
        url,
        json={"PurchaseOrderByCustomer": "M"},
        headers={"X-HTTP-Method": "MERGE", "If-Match": "*"},
    )
    assert merged.status_code == 204
    put = s4.http.put(
        url,
        json={**{k: v for k, v in s4.order.items() if k != "to_Item"}},
        headers={"If-Match": "*"},
    )
    assert put.status_code == 204
    assert s4.http.get(url).json()["d"]["PurchaseOrderByCustomer"] == "WEB-1001"
    assert s4.http.delete(url, headers={"If-Match": "*"}).status_code == 204
    assert s4.http.get(url).status_code == 404
    stock = s4.post("API_MATERIAL_STOCK_SRV/A_MaterialStock", {"Material": "X"})
    assert stock.status_code == 405
    customer = s4.post("API_BUSINESS_PARTNER/A_Customer", {"Customer": "X"})
    assert customer.status_code == 405


def test_item08_etag_and_if_match(s4) -> None:
    created = s4.post("API_SALES_ORDER_SRV/A_SalesOrder", s4.order)
    url = created.headers["location"].split("/sap/opu/odata/sap/")[1]
    first = created.headers["etag"]
    assert s4.http.get(url).headers["etag"] == first
    missing = s4.http.patch(url, json={"PurchaseOrderByCustomer": "A"})
    assert missing.status_code == 428
    changed = s4.http.patch(url, json={"PurchaseOrderByCustomer": "A"}, headers={"If-Match": first})
    second = changed.headers["etag"]
    assert changed.status_code == 204 and second != first
    stale = s4.http.patch(url, json={"PurchaseOrderByCustomer": "B"}, headers={"If-Match": first})
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "/IWBEP/CM_MGW_RT/190"
    s4.sandbox.admin.settings(require_if_match=False)
    assert s4.http.patch(url, json={"PurchaseOrderByCustomer": "C"}).status_code == 204
