"""Parts of the SalesOrderCommand that the sink tests build again and again."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def order_line(number: str | None, material: str, quantity: str) -> dict[str, Any]:
    """One ``to_Item`` line of a SalesOrderCommand, in pieces, with the optional fields empty."""
    return {
        "SalesOrderItem": number,
        "Material": material,
        "RequestedQuantity": Decimal(quantity),
        "RequestedQuantityUnit": "PC",
        "SalesOrderItemText": None,
        "MaterialByCustomer": None,
        "ProductionPlant": None,
        "RequestedDeliveryDate": None,
    }
