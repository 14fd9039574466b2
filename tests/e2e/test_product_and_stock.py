"""Product master and stock from S/4 to D365: a new product, its rename, counts, a goods issue."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from isthmus.devenv.demo import dead_letters
from isthmus.devenv.demo_systems import ORDER_UNIT

from .conftest import RunningSystem

pytestmark = pytest.mark.e2e

PLANT = "1710"  # the plant flows/s4-materialstock-to-d365-inventory.yaml syncs
PRODUCT_COLUMNS = "productid,productnumber,name,quantityonhand,quantitydecimal,_defaultuomid_value"


def _d365_product(system: RunningSystem, number: str) -> dict[str, Any] | None:
    rows = system.driver.d365.rows(
        "products", select=PRODUCT_COLUMNS, filter_=f"productnumber eq '{number}'"
    )
    return rows[0] if rows else None


def _on_hand(system: RunningSystem, number: str) -> Decimal | None:
    row = _d365_product(system, number)
    if row is None or row.get("quantityonhand") is None:
        return None
    return Decimal(str(row["quantityonhand"]))


def _wait_for(system: RunningSystem, number: str, **expected: Any) -> dict[str, Any]:
    def arrived() -> bool:
        row = _d365_product(system, number)
        return row is not None and all(row.get(k) == v for k, v in expected.items())

    assert system.poll_until(arrived, timeout_s=60), (
        number,
        expected,
        _d365_product(system, number),
    )
    row = _d365_product(system, number)
    assert row is not None
    return row


@pytest.mark.timeout(240)
def test_a_new_s4_product_reaches_d365_with_its_name_unit_and_plant_stock(
    system: RunningSystem,
) -> None:
    driver = system.driver
    dead_before = dead_letters(system.config.bootstrap_servers)
    number = f"ISTH-{uuid.uuid4().hex[:6].upper()}"
    piece = next(u["uomid"] for u in driver.d365.ensure_piece_unit() if u["name"] == ORDER_UNIT)

    driver.s4.create_product(product=number, description="Isthmus Widget")
    created = _wait_for(system, number, name="Isthmus Widget")
    assert (created["_defaultuomid_value"], created["quantitydecimal"]) == (piece, 0)

    driver.s4.rename_product(product=number, description="Isthmus Widget Mk II")
    renamed = _wait_for(system, number, name="Isthmus Widget Mk II")
    assert renamed["productid"] == created["productid"]

    driver.s4.set_stock(material=number, plant="1010", quantity=7)  # a plant D365 does not show
    driver.s4.set_stock(material=number, plant=PLANT, quantity=25)
    assert system.poll_until(lambda: _on_hand(system, number) == Decimal(25), timeout_s=60)
    driver.s4.set_stock(material=number, plant=PLANT, quantity=12)
    assert system.poll_until(lambda: _on_hand(system, number) == Decimal(12), timeout_s=60)

    assert (
        len(
            driver.d365.rows("products", select="productid", filter_=f"productnumber eq '{number}'")
        )
        == 1
    )
    _assert_other_plant_was_skipped(system, number)
    assert dead_letters(system.config.bootstrap_servers) == dead_before


def _assert_other_plant_was_skipped(system: RunningSystem, number: str) -> None:
    """The plant-1010 count went through the ingress and the transformer, which issued nothing."""
    hops = [e for e in system.audit_events() if e["businessKey"] == f"{number}/1010"]
    assert {(e["service"], e["outcome"]) for e in hops} == {
        ("ingress", "SUCCEEDED"),
        ("transformer", "SKIPPED"),
    }


@pytest.mark.timeout(240)
def test_a_goods_issue_in_s4_lowers_quantity_on_hand_in_d365(system: RunningSystem) -> None:
    driver = system.driver
    dead_before = dead_letters(system.config.bootstrap_servers)
    stock_before = driver.s4.unrestricted_stock(material="TG11", plant=PLANT)
    # the driver's set-up counted the stock; D365 shows it once the count went through
    assert system.poll_until(lambda: _on_hand(system, "TG11") == stock_before, timeout_s=60)

    journey = driver.create_order(lines=[("TG11", 4)])
    assert system.poll_until(lambda: journey.reached("goods issue"), timeout_s=120), journey.stage

    stock_after = driver.s4.unrestricted_stock(material="TG11", plant=PLANT)
    assert stock_after == stock_before - 4
    assert system.poll_until(lambda: _on_hand(system, "TG11") == stock_after, timeout_s=60), (
        _on_hand(system, "TG11"),
        stock_after,
    )
    assert system.poll_until(lambda: journey.done, timeout_s=120), journey.stage
    assert dead_letters(system.config.bootstrap_servers) == dead_before
