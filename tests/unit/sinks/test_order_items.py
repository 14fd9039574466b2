"""The item plan of a sales-order CHANGE: update, add, reject, and nothing on a repeat."""

from __future__ import annotations

from isthmus.sap_sink.core.items import REJECTION, plan_items
from tests.sales_orders import order_line


def _item(number: str, material: str, quantity: str, **extra: str) -> dict[str, str]:
    return {
        "SalesOrderItem": number,
        "Material": material,
        "RequestedQuantity": quantity,
        "RequestedQuantityUnit": "PC",
        REJECTION: "",
        **extra,
    }


def test_changed_quantity_new_line_and_removed_line() -> None:
    existing = [_item("10", "TG11", "2.000"), _item("20", "TG12", "1.000")]
    wanted = [order_line("10", "TG11", "5"), order_line("30", "TG12", "4")]
    plan = plan_items(existing=existing, wanted=wanted)
    assert plan.updates == {"10": {"RequestedQuantity": "5"}}
    assert plan.creates == [
        {
            "SalesOrderItem": "30",
            "Material": "TG12",
            "RequestedQuantity": "4",
            "RequestedQuantityUnit": "PC",
        }
    ]
    assert plan.rejects == ["20"]


def test_the_same_lines_again_plan_nothing() -> None:
    existing = [_item("000010", "TG11", "2.000"), _item("20", "TG12", "1.000", **{REJECTION: "10"})]
    assert not plan_items(existing=existing, wanted=[order_line("10", "TG11", "2")])


def test_lines_without_number_match_by_material_and_rejected_lines_come_back() -> None:
    existing = [
        _item("10", "TG11", "2.000", **{REJECTION: "10"}),
        _item("11", "TG11", "1.000", HigherLevelItem="10"),  # S/4's own sub-item: left alone
    ]
    plan = plan_items(existing=existing, wanted=[order_line(None, "TG11", "2")])
    assert plan.updates == {"10": {REJECTION: ""}}
    assert plan.creates == [] and plan.rejects == []
