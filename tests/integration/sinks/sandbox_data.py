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
            body = client.get(next_url, params=params if next_url == url else None).json()["d"]
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
