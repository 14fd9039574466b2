"""Sales order validation with SAP-style messages (message class/number, text, severity)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.errors import BusinessError, MessageDetail

Row = dict[str, Any]
_BP = "API_BUSINESS_PARTNER"
_PRODUCT = "API_PRODUCT_SRV"

# Message numbers are the sandbox's assumptions (see README, "Assumptions").
MSG_ORDER_TYPE = "V1/043"
MSG_SALES_ORG = "V1/044"
MSG_SOLD_TO_MISSING = "V1/382"
MSG_CUSTOMER_UNKNOWN = "VP/112"
MSG_CUSTOMER_BLOCKED = "V1/462"
MSG_SALES_AREA = "VP/200"
MSG_MATERIAL = "V1/392"
MSG_QUANTITY = "V1/380"
MSG_UNIT = "V1/394"


def raise_if_errors(errors: list[MessageDetail]) -> None:
    """Raise one BusinessError carrying every message, the first one as the main message.

    Raises:
        BusinessError: at least one error was found.
    """
    if errors:
        raise BusinessError(errors[0].message, code=errors[0].code, details=tuple(errors))


class OrderChecks:
    """Checks a sales order against customizing, business partners and products."""

    def __init__(self, *, master: MasterData) -> None:
        self.master = master
        self.store = master.store

    def customer(self, number: str) -> Row | None:
        """The A_Customer row of a customer number."""
        return self.store.get(service=_BP, entity_set="A_Customer", key=(number,))

    def product(self, material: str) -> Row | None:
        """The A_Product row of a material."""
        return self.store.get(service=_PRODUCT, entity_set="A_Product", key=(material,))

    def description(self, material: str) -> str:
        """The English product description of a material."""
        row = self.store.get(
            service=_PRODUCT, entity_set="A_ProductDescription", key=(material, "EN")
        )
        return str(row["ProductDescription"]) if row else ""

    def header(self, header: Row) -> Row:
        """Validate the header; return the customer's sales area data.

        Raises:
            BusinessError: invalid order type, sales organisation or sold-to party.
        """
        errors: list[MessageDetail] = []
        order_type, org = header["SalesOrderType"], header["SalesOrganization"]
        if not self.master.order_type_exists(order_type):
            errors.append(
                MessageDetail(MSG_ORDER_TYPE, f"Sales document type {order_type} is not defined")
            )
        if self.master.sales_org(org) is None:
            errors.append(MessageDetail(MSG_SALES_ORG, f"Sales organization {org} is not defined"))
        raise_if_errors(errors)
        return self._sold_to(header)

    def _sold_to(self, header: Row) -> Row:
        sold_to = header["SoldToParty"]
        if not sold_to:
            raise_if_errors([MessageDetail(MSG_SOLD_TO_MISSING, "Enter a sold-to party")])
        customer = self.customer(sold_to)
        if customer is None:
            raise_if_errors(
                [MessageDetail(MSG_CUSTOMER_UNKNOWN, f"Customer {sold_to} does not exist")]
            )
            return {}
        if customer.get("OrderIsBlockedForCustomer") or customer.get("DeletionIndicator"):
            raise_if_errors(
                [
                    MessageDetail(
                        MSG_CUSTOMER_BLOCKED, f"Sold-to party {sold_to} is blocked for sales orders"
                    )
                ]
            )
        key = (
            sold_to,
            header["SalesOrganization"],
            header["DistributionChannel"],
            header["OrganizationDivision"],
        )
        area = self.store.get(service=_BP, entity_set="A_CustomerSalesArea", key=key)
        if area is None:
            text = f"Sold-to party {sold_to} not maintained for sales area {' '.join(key[1:])}"
            raise_if_errors([MessageDetail(MSG_SALES_AREA, text)])
            return {}
        return area

    def item(self, item: Row, *, index: int) -> list[MessageDetail]:
        """Problems of one item (unknown material, missing quantity, wrong unit)."""
        errors: list[MessageDetail] = []
        target = f"to_Item({index})"
        product = self.product(item["Material"]) if item["Material"] else None
        if product is None:
            text = f"Material {item['Material'] or '(blank)'} does not exist"
            errors.append(MessageDetail(MSG_MATERIAL, text, target=f"{target}/Material"))
        try:
            quantity = Decimal(item["RequestedQuantity"])
        except (InvalidOperation, TypeError):
            quantity = Decimal(0)
        if quantity <= 0:
            text = f"Enter a quantity for item {item['SalesOrderItem'] or index}"
            errors.append(MessageDetail(MSG_QUANTITY, text, target=f"{target}/RequestedQuantity"))
        unit = item["RequestedQuantityUnit"]
        if product is not None and unit and unit != product.get("BaseUnit"):
            text = f"Unit {unit} is not defined for material {item['Material']}"
            errors.append(MessageDetail(MSG_UNIT, text, target=f"{target}/RequestedQuantityUnit"))
        return errors
