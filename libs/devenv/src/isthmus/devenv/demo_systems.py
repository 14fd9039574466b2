"""What people do in the two systems during the demo: a D365 sales clerk, S/4 billing."""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from isthmus.devenv.system import D365_ORG_URL, D365_TENANT_ID, S4_PASSWORD, S4_USER

API = "/api/data/v9.2"
ORDERS_SRV = "/sap/opu/odata/sap/API_SALES_ORDER_SRV"
DELIVERY_SRV = "/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV"
BILLING_SRV = "/sap/opu/odata/sap/API_BILLING_DOCUMENT_SRV"
STOCK_SRV = "/sap/opu/odata/sap/API_MATERIAL_STOCK_SRV"
ORDER_UNIT = "Piece"  # flows/lookups/uom.csv: Piece -> PC
CLERK_CLIENT_ID = "6c1d2f0e-5b7a-4e61-9d0c-2a1f3e4b5c6d"  # the demo's own app: a person, not us
CLERK_SECRET = "demo-clerk-secret"  # noqa: S105 - local sandbox credential


@dataclass(frozen=True)
class Catalogue:
    """Ids of the seeded Dataverse rows an order needs."""

    price_list: str
    currency: str
    unit: str
    products: dict[str, str]


class Dataverse:
    """A sales clerk's calls against sandbox-d365 (its own application user)."""

    def __init__(self, *, url: str, ca_file: Path) -> None:
        self._url = url
        self._http = httpx.Client(
            base_url=url, verify=ssl.create_default_context(cafile=str(ca_file)), timeout=60
        )
        self._token = ""

    def sign_in(self) -> None:
        """Register the clerk's app (idempotent) and take a token.

        Raises:
            httpx.HTTPStatusError: the sandbox refused the app or the token.
        """
        apps = self._http.get("/_sandbox/apps").json()
        if not any(str(app.get("client_id")) == CLERK_CLIENT_ID for app in apps):
            self._http.post(
                "/_sandbox/apps",
                json={"client_id": CLERK_CLIENT_ID, "client_secret": CLERK_SECRET},
            ).raise_for_status()
        token = self._http.post(
            f"/{D365_TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": CLERK_CLIENT_ID,
                "client_secret": CLERK_SECRET,
                "scope": f"{D365_ORG_URL}/.default",
            },
        )
        token.raise_for_status()
        self._token = token.json()["access_token"]

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call; a 401 (the token expired or was revoked) signs in again, once."""
        extra = kwargs.pop("headers", {})
        answer = self._http.request(method, f"{API}/{path}", headers=self._auth(extra), **kwargs)
        if answer.status_code == httpx.codes.UNAUTHORIZED:
            self.sign_in()
            answer = self._http.request(
                method, f"{API}/{path}", headers=self._auth(extra), **kwargs
            )
        answer.raise_for_status()
        return answer

    def _auth(self, extra: dict[str, str]) -> dict[str, str]:
        return {**extra, "Authorization": f"Bearer {self._token}"}

    def rows(self, entity_set: str, *, select: str, filter_: str | None = None) -> list[Any]:
        """Every row of a query (follows ``@odata.nextLink``)."""
        params = {"$select": select} | ({"$filter": filter_} if filter_ else {})
        page = self._call("GET", entity_set, params=params).json()
        rows = list(page["value"])
        while link := page.get("@odata.nextLink"):
            page = self._call("GET", link.split(f"{API}/", 1)[1]).json()
            rows.extend(page["value"])
        return rows

    def catalogue(self) -> Catalogue:
        """The seeded price list, currency, unit and products."""
        price_list = self.rows("pricelevels", select="pricelevelid,name")[0]["pricelevelid"]
        usd = self.rows("transactioncurrencies", select="transactioncurrencyid,isocurrencycode")
        units = self.ensure_piece_unit()
        products = self.rows("products", select="productid,productnumber")
        return Catalogue(
            price_list=price_list,
            currency=next(c["transactioncurrencyid"] for c in usd if c["isocurrencycode"] == "USD"),
            unit=next(u["uomid"] for u in units if u["name"] == ORDER_UNIT),
            products={p["productnumber"]: p["productid"] for p in products},
        )

    def ensure_piece_unit(self) -> list[Any]:
        """Add the unit "Piece" (the flows' name for S/4's PC) to the seeded unit group."""
        units = self.rows("uoms", select="uomid,name,_uomscheduleid_value")
        if not any(u["name"] == ORDER_UNIT for u in units):
            primary = next(u for u in units if u["name"] == "Primary Unit")
            self.create(
                "uoms",
                {
                    "name": ORDER_UNIT,
                    "quantity": 1,
                    "uomscheduleid@odata.bind": f"/uomschedules({primary['_uomscheduleid_value']})",
                    "baseuom@odata.bind": f"/uoms({primary['uomid']})",
                },
            )
            units = self.rows("uoms", select="uomid,name,_uomscheduleid_value")
        return units

    def create(self, entity_set: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a row and return it (``return=representation``)."""
        answer = self._call(
            "POST", entity_set, json=body, headers={"Prefer": "return=representation"}
        )
        return dict(answer.json())

    def update(self, entity_set: str, row_id: str, body: dict[str, Any]) -> None:
        self._call("PATCH", f"{entity_set}({row_id})", json=body, headers={"If-Match": "*"})

    def fulfil(self, order_id: str) -> None:
        """The shipment confirmation: ``FulfillSalesOrder``."""
        self._call("POST", "FulfillSalesOrder", json=fulfil_body(order_id))

    def mark_paid(self, invoice_id: str) -> None:
        """Post the invoice: statecode 2 Paid, statuscode 100001 Complete."""
        self.update("invoices", invoice_id, {"statecode": 2, "statuscode": 100001})


class S4:
    """Reads from sandbox-s4 and the billing clerk's billing run."""

    def __init__(self, *, url: str, ca_file: Path) -> None:
        self._http = httpx.Client(
            base_url=url,
            verify=ssl.create_default_context(cafile=str(ca_file)),
            timeout=60,
            auth=(S4_USER, S4_PASSWORD),
        )

    def close(self) -> None:
        self._http.close()

    def query(self, path: str, *, select: str, filter_: str | None = None) -> list[Any]:
        """Every entry of an OData V2 collection (follows ``__next``)."""
        params = {"$select": select, "$format": "json"} | ({"$filter": filter_} if filter_ else {})
        answer = self._http.get(path, params=params)
        answer.raise_for_status()
        body = answer.json()["d"]
        rows = list(body["results"])
        while link := body.get("__next"):
            answer = self._http.get(link)
            answer.raise_for_status()
            body = answer.json()["d"]
            rows.extend(body["results"])
        return rows

    def billing_run(self, deliveries: list[str]) -> list[str]:
        """Bill goods-issued deliveries (the sandbox's stand-in for the billing due list)."""
        answer = self._http.post("/_sandbox/billing-run", json={"deliveries": deliveries})
        answer.raise_for_status()
        return [str(number) for number in answer.json().get("billing_documents", [])]

    def _csrf(self, root: str) -> str:
        token = self._http.get(f"{root}/", headers={"X-CSRF-Token": "Fetch"})
        token.raise_for_status()
        return str(token.headers["x-csrf-token"])

    def update_partner_name(self, *, partner: str, name: str) -> None:
        """A master-data clerk renames a business partner in S/4."""
        root = "/sap/opu/odata/sap/API_BUSINESS_PARTNER"
        self._http.patch(
            f"{root}/A_BusinessPartner('{partner}')",
            json={"OrganizationBPName1": name},
            headers={"X-CSRF-Token": self._csrf(root), "If-Match": "*"},
        ).raise_for_status()

    def create_product(self, *, product: str, description: str) -> None:
        """A trading good in base unit PC (what a product manager does in S/4)."""
        root = "/sap/opu/odata/sap/API_PRODUCT_SRV"
        csrf = self._csrf(root)
        self._http.post(
            f"{root}/A_Product",
            json={
                "Product": product,
                "ProductType": "HAWA",
                "BaseUnit": "PC",
                "to_Description": {
                    "results": [{"Language": "EN", "ProductDescription": description}]
                },
            },
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        ).raise_for_status()

    def rename_product(self, *, product: str, description: str) -> None:
        """A product manager changes the English description (the D365 product name)."""
        root = "/sap/opu/odata/sap/API_PRODUCT_SRV"
        self._http.patch(
            f"{root}/A_ProductDescription(Product='{product}',Language='EN')",
            json={"ProductDescription": description},
            headers={"X-CSRF-Token": self._csrf(root), "If-Match": "*"},
        ).raise_for_status()

    def unrestricted_stock(self, *, material: str, plant: str) -> Decimal:
        """Unrestricted own stock of a material in a plant (A_MatlStkInAcctMod rows summed)."""
        rows = self.query(
            f"{STOCK_SRV}/A_MatlStkInAcctMod",
            select="InventoryStockType,InventorySpecialStockType,MatlWrhsStkQtyInMatlBaseUnit",
            filter_=f"Material eq '{material}' and Plant eq '{plant}'",
        )
        return sum(
            (
                Decimal(r["MatlWrhsStkQtyInMatlBaseUnit"])
                for r in rows
                if r["InventoryStockType"] == "01" and not r["InventorySpecialStockType"]
            ),
            Decimal(0),
        )

    def set_stock(self, *, material: str, plant: str, quantity: int) -> None:
        self._http.put(
            "/_sandbox/stock", json={"material": material, "plant": plant, "quantity": quantity}
        ).raise_for_status()


def account_body(*, number: int, run: str) -> dict[str, Any]:
    """A new US customer (the account number is its external id in S/4)."""
    return {
        "name": f"Demo Customer {run}-{number}",
        "accountnumber": f"D{run}{number:03d}",
        "address1_line1": f"{100 + number} Main Street",
        "address1_city": "Palo Alto",
        "address1_postalcode": "94304",
        "address1_country": "United States",
        "telephone1": f"+1 650 555 {number:04d}",
        "emailaddress1": f"buyer{number}@demo-{run}.example",
    }


def fulfil_body(order_id: str) -> dict[str, Any]:
    """The ``FulfillSalesOrder`` action's body: the order closed as shipped (status 100001)."""
    return {
        "OrderClose": {
            "@odata.type": "Microsoft.Dynamics.CRM.orderclose",
            "salesorderid@odata.bind": f"/salesorders({order_id})",
            "subject": "Shipped",
        },
        "Status": 100001,
    }


def order_body(
    *, account_id: str, catalogue: Catalogue, lines: list[tuple[str, int]]
) -> dict[str, Any]:
    """A sales order for a customer, shipped to the US, with one line per (product, quantity)."""
    return {
        "name": f"Demo order {uuid.uuid4().hex[:6]}",
        "customerid_account@odata.bind": f"/accounts({account_id})",
        "pricelevelid@odata.bind": f"/pricelevels({catalogue.price_list})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({catalogue.currency})",
        "shipto_country": "United States",
        "order_details": [
            {
                "productid@odata.bind": f"/products({catalogue.products[product]})",
                "uomid@odata.bind": f"/uoms({catalogue.unit})",
                "quantity": quantity,
            }
            for product, quantity in lines
        ],
    }
