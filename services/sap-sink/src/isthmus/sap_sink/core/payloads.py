"""Commands (decoded Avro) to OData V2 JSON, and written entities to state fields (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from isthmus.connectors.s4.idempotency import SALES_ORDER_SERVICE
from isthmus.schemas.odata_date import format_odata_date

_COMMAND_ONLY = frozenset({"header", "action"})

SALES_ORDER_STATE = (
    "SalesOrder",
    "SalesOrderType",
    "SalesOrganization",
    "SoldToParty",
    "PurchaseOrderByCustomer",
    "TotalNetAmount",
    "TransactionCurrency",
    "OverallSDProcessStatus",
)
PARTNER_STATE = (
    "BusinessPartner",
    "BusinessPartnerCategory",
    "OrganizationBPName1",
    "FirstName",
    "LastName",
    "BusinessPartnerIDByExtSystem",
    "SearchTerm1",
)
SALES_ORDER_HEADER_CHANGES = (
    "PurchaseOrderByCustomer",
    "CustomerPurchaseOrderDate",
    "RequestedDeliveryDate",
    "CustomerPaymentTerms",
    "ShippingCondition",
)
__all__ = ["SALES_ORDER_SERVICE"]


def v2_value(value: Any) -> Any:
    """One value in OData V2 JSON: decimals as strings, dates as ``/Date(ms)/``."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return format_odata_date(value)
    if isinstance(value, list):
        return [v2_value(v) for v in value]
    if isinstance(value, dict):
        return v2_body(value)
    return value


def v2_body(command: Mapping[str, Any], *, drop: Iterable[str] = ()) -> dict[str, Any]:
    """The entity body of a command: nulls and command-only fields left out."""
    skip = _COMMAND_ONLY | set(drop)
    return {k: v2_value(v) for k, v in command.items() if v is not None and k not in skip}


def sales_order_body(command: Mapping[str, Any]) -> dict[str, Any]:
    """The deep-insert body of a CREATE (``SalesOrder`` left to S/4's number range)."""
    body = v2_body(command, drop=("SalesOrder",))
    body["to_Item"] = [v2_body(item) for item in command.get("to_Item") or []]
    body["to_Partner"] = [v2_body(p) for p in command.get("to_Partner") or []]
    return body


def sales_order_changes(command: Mapping[str, Any]) -> dict[str, Any]:
    """The header fields a CHANGE writes (items are changed through their own entity)."""
    return {
        k: v2_value(command[k]) for k in SALES_ORDER_HEADER_CHANGES if command.get(k) is not None
    }


def partner_body(command: Mapping[str, Any]) -> dict[str, Any]:
    """The deep-insert body of a business partner with roles, addresses and sales areas."""
    body = v2_body(
        command,
        drop=(
            "BusinessPartner",
            "to_BusinessPartnerRole",
            "to_BusinessPartnerAddress",
            "to_CustomerSalesArea",
        ),
    )
    body["to_BusinessPartnerRole"] = [
        v2_body(r) for r in command.get("to_BusinessPartnerRole") or []
    ]
    body["to_BusinessPartnerAddress"] = [
        _address(a) for a in command.get("to_BusinessPartnerAddress") or []
    ]
    areas = [v2_body(a) for a in command.get("to_CustomerSalesArea") or []]
    if areas:
        body["to_Customer"] = {"to_CustomerSalesArea": areas}
    return body


def partner_changes(command: Mapping[str, Any]) -> dict[str, Any]:
    """The header fields of a business partner change."""
    header = partner_body(command)
    for nested in ("to_BusinessPartnerRole", "to_BusinessPartnerAddress", "to_Customer"):
        header.pop(nested, None)
    return header


def _address(address: Mapping[str, Any]) -> dict[str, Any]:
    body = v2_body(address, drop=("AddressID", "EmailAddress", "PhoneNumber"))
    if address.get("EmailAddress"):
        body["to_EmailAddress"] = [{"EmailAddress": address["EmailAddress"]}]
    if address.get("PhoneNumber"):
        body["to_PhoneNumber"] = [{"PhoneNumber": address["PhoneNumber"]}]
    return body


def state_fields(data: Mapping[str, Any], names: Iterable[str]) -> dict[str, str | None]:
    """The named fields of a written entity in normalised string form."""
    return {name: None if data.get(name) in (None, "") else str(data[name]) for name in names}


def differs(
    existing: Mapping[str, Any], wanted: Mapping[str, Any], names: Iterable[str]
) -> list[str]:
    """Names whose wanted value is set and differs from the existing record's."""
    return [
        n
        for n in names
        if wanted.get(n) not in (None, "") and str(existing.get(n, "")) != str(wanted[n])
    ]
