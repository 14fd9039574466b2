"""Stock events: keyed by material and plant, hydrated as the plant's unrestricted own stock."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from isthmus.ingress.adapters.stock import plant_stock, split_key
from isthmus.ingress.core.sap import event_for, parse_cloud_event
from isthmus.ingress.settings import SapEventSettings

pytestmark = pytest.mark.unit
ROUTES = SapEventSettings().routes


def _row(location: str, quantity: str, **key: str) -> dict[str, str]:
    row = {
        "Material": "TG11",
        "Plant": "1710",
        "StorageLocation": location,
        "InventoryStockType": "01",
        "InventorySpecialStockType": "",
        "MatlWrhsStkQtyInMatlBaseUnit": quantity,
        "MaterialBaseUnit": "PC",
    }
    return row | key


def test_a_stock_event_is_keyed_by_material_and_plant_and_hydrated_from_the_rows() -> None:
    body = {
        "type": "sap.s4.beh.materialstock.v1.MaterialStock.Changed.v1",
        "specversion": "1.0",
        "source": "/default/sap.s4.beh/S4HCLNT100",
        "id": "s-1",
        "data": {"Material": "TG11", "Plant": "1710", "StorageLocation": "171A"},
    }
    event = parse_cloud_event(
        content_type="application/json", headers={}, body=json.dumps(body).encode()
    )
    pending = event_for(event, routes=ROUTES, correlation_id=None)

    assert pending is not None
    assert (pending.topic, pending.key) == ("s4.materialstock.events", "TG11/1710")
    assert pending.envelope["operation"] == "UPDATED"
    assert pending.hydration is not None
    assert (pending.hydration.service, pending.hydration.collection) == (
        "API_MATERIAL_STOCK_SRV",
        "A_MatlStkInAcctMod",
    )
    assert split_key(pending.hydration.key) == ("TG11", "1710")


def test_only_unrestricted_own_stock_is_summed_over_locations_and_batches() -> None:
    rows = [
        _row("171A", "10.00000000000000"),
        _row("171B", "2.50000000000000", Batch="B1"),
        _row("171A", "99.00000000000000", InventoryStockType="02"),  # quality inspection
        _row("171A", "7.00000000000000", InventorySpecialStockType="K"),  # consignment
    ]

    stock = plant_stock(rows, material="TG11", plant="1710", unit="")

    assert Decimal(stock["MatlWrhsStkQtyInMatlBaseUnit"]) == Decimal("12.5")
    assert (stock["StorageLocation"], stock["InventoryStockType"]) == ("", "01")
    assert stock["MaterialBaseUnit"] == "PC"


def test_no_rows_is_zero_in_the_given_unit() -> None:
    stock = plant_stock([], material="RM-STEEL", plant="1010", unit="KG")

    assert (stock["MatlWrhsStkQtyInMatlBaseUnit"], stock["MaterialBaseUnit"]) == ("0", "KG")


def test_material_numbers_may_hold_a_slash() -> None:
    assert split_key("A/B/1710") == ("A/B", "1710")
