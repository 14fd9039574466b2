"""Reads and writes against sandbox-s4 for the sink tests (orders by reference, customers)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx

from isthmus.testing.sandbox_s4 import SandboxS4


def orders_by_reference(sandbox: SandboxS4, prefix: str) -> Counter[str]:
    """How many S/4 orders exist per PurchaseOrderByCustomer starting with ``prefix``."""
    url = sandbox.service_url("API_SALES_ORDER_SRV") + "A_SalesOrder"
    params = {
        "$filter": f"startswith(PurchaseOrderByCustomer,'{prefix}')",
        "$select": "SalesOrder,PurchaseOrderByCustomer,RequestedDeliveryDate",
        "$format": "json",
    }
    found: Counter[str] = Counter()
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=60) as client:
        next_url: str | None = url
        while next_url:
            response = client.get(next_url, params=params if next_url == url else None)
            response.raise_for_status()
            body = response.json()["d"]
            found.update(row["PurchaseOrderByCustomer"] for row in body["results"])
            next_url = body.get("__next")
    return found


def create_customer(sandbox: SandboxS4, *, number: str, org: str = "1010") -> dict[str, Any]:
    """Create a business partner with customer role and a sales area (explicit number)."""
    service = sandbox.service_url("API_BUSINESS_PARTNER")
    body = {
        "BusinessPartner": number,
        "BusinessPartnerCategory": "2",
        "OrganizationBPName1": f"Customer {number}",
        "BusinessPartnerIDByExtSystem": f"EXT-{number}",
        "to_BusinessPartnerRole": [{"BusinessPartnerRole": "FLCU01"}],
        "to_Customer": {
            "to_CustomerSalesArea": [
                {
                    "SalesOrganization": org,
                    "DistributionChannel": "10",
                    "Division": "00",
                    "Currency": "EUR",
                }
            ]
        },
    }
    return _post(sandbox, service, "A_BusinessPartner", body)


def add_sales_area(sandbox: SandboxS4, *, customer: str, org: str) -> dict[str, Any]:
    """Maintain ``customer`` in sales area ``org``/10/00."""
    service = sandbox.service_url("API_BUSINESS_PARTNER")
    body = {
        "Customer": customer,
        "SalesOrganization": org,
        "DistributionChannel": "10",
        "Division": "00",
        "Currency": "USD",
    }
    return _post(sandbox, service, f"A_Customer('{customer}')/to_CustomerSalesArea", body)


def _post(sandbox: SandboxS4, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=60) as client:
        head = client.get(service, headers={"X-CSRF-Token": "Fetch"})
        token = head.headers["x-csrf-token"]
        response = client.post(
            service + path,
            json=body,
            headers={"X-CSRF-Token": token, "Accept": "application/json"},
        )
        response.raise_for_status()
        result: dict[str, Any] = response.json()["d"]
        return result


def order_create_calls(sandbox: SandboxS4) -> tuple[int, int]:
    """``(single, batched)``: sales-order creates S/4 answered 201 alone, and creates sent in
    ``$batch`` requests S/4 answered (a change set per order)."""
    calls = sandbox.admin.calls(method="POST")
    single = sum(1 for c in calls if c["path"].endswith("/A_SalesOrder") and c["status"] == 201)
    batched = sum(
        c["body"].count("POST A_SalesOrder HTTP/1.1")
        for c in calls
        if c["path"].endswith("/$batch") and c["status"] == 202
    )
    return single, batched


def order_items(sandbox: SandboxS4, reference: str) -> list[dict[str, Any]]:
    """The items of the order with customer reference ``reference``."""
    url = sandbox.service_url("API_SALES_ORDER_SRV") + "A_SalesOrder"
    params = {
        "$filter": f"PurchaseOrderByCustomer eq '{reference}'",
        "$expand": "to_Item",
        "$format": "json",
    }
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=60) as client:
        response = client.get(url, params=params)
        response.raise_for_status()
        rows = response.json()["d"]["results"]
    assert len(rows) == 1, rows
    items: list[dict[str, Any]] = rows[0]["to_Item"]["results"]
    return items
