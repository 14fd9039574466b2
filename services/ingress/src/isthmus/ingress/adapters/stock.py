"""Hydration of S/4 material stock events: a material's unrestricted stock in one plant.

API_MATERIAL_STOCK_SRV has no entity to read by the event's key: it holds one
``A_MatlStkInAcctMod`` row per 11-part stock key (storage location, batch, special stock, stock
type, ...). A ``MaterialStock`` event is therefore hydrated by reading the material's rows in the
plant and summing the plant's own unrestricted-use stock (stock type ``01``, no special stock)
over storage locations and batches, because D365 keeps one quantity per product.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.odata import v2_literal

STOCK_SERVICE = "API_MATERIAL_STOCK_SRV"
STOCK_SET = "A_MatlStkInAcctMod"
UNRESTRICTED = "01"
QUANTITY = "MatlWrhsStkQtyInMatlBaseUnit"


def split_key(key: str) -> tuple[str, str]:
    """``(material, plant)`` from the event key ``Material/Plant`` (plants never hold ``/``)."""
    material, _, plant = key.rpartition("/")
    return material, plant


def plant_stock(
    rows: Iterable[Mapping[str, Any]], *, material: str, plant: str, unit: str
) -> dict[str, Any]:
    """The ``io.isthmus.s4.MaterialStock`` record of a plant: unrestricted own stock summed.

    ``StorageLocation`` is ``""``: the quantity covers every storage location of the plant.
    """
    total = Decimal(0)
    for row in rows:
        own = not row.get("InventorySpecialStockType")
        if own and row.get("InventoryStockType") == UNRESTRICTED:
            total += Decimal(str(row.get(QUANTITY) or 0))
            unit = str(row.get("MaterialBaseUnit") or unit)
    return {
        "Material": material,
        "Plant": plant,
        "StorageLocation": "",
        "Batch": None,
        "InventoryStockType": UNRESTRICTED,
        "InventorySpecialStockType": None,
        QUANTITY: str(total),
        "MaterialBaseUnit": unit,
    }


async def read_plant_stock(client: S4Client, *, key: str) -> dict[str, Any]:
    """Read the stock rows of the event's material and plant (``key``) and sum them.

    A material without rows in the plant has no stock there (0 in its base unit).

    Raises:
        S4NotFoundError: the material does not exist (no ``A_MaterialStock`` either).
        ConnectorError: S/4 could not be read.
    """
    material, plant = split_key(key)
    rows = await client.query(
        STOCK_SERVICE,
        STOCK_SET,
        filter=f"Material eq {v2_literal(material)} and Plant eq {v2_literal(plant)}",
    )
    unit = ""
    if not rows:
        header = await client.read(STOCK_SERVICE, "A_MaterialStock", material)
        unit = str(header.data.get("MaterialBaseUnit") or "")
    return plant_stock(rows, material=material, plant=plant, unit=unit)
