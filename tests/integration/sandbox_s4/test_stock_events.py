"""Stock and product-description changes raise business events (MaterialStock, Product)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .test_contract_documents import deliver_and_issue

STOCK_TOPIC = "default/sap.s4/S4H/ce/sap/s4/beh/materialstock/v1/MaterialStock/*/v1"
PRODUCT_TOPIC = "default/sap.s4/S4H/ce/sap/s4/beh/product/v1/Product/*/v1"
STOCK_CHANGED = "sap.s4.beh.materialstock.v1.MaterialStock.Changed.v1"


def _queue(s4: Any, name: str, *topics: str) -> None:
    management = f"{s4.sandbox.base_url}/hub/rest/api/v1/management/messaging/queues"
    assert s4.http.put(f"{management}/{name}").status_code == 201
    for topic in topics:
        added = s4.http.put(f"{management}/{name}/subscriptions/{quote(topic, safe='')}")
        assert added.status_code == 201


def _consume_all(s4: Any, queue: str) -> list[dict[str, Any]]:
    """Every message in the queue, in order (consumed without acknowledgement, qos 0)."""
    url = f"{s4.sandbox.base_url}/messagingrest/v1/queues/{queue}/messages/consumption"
    events = []
    while (answer := s4.http.post(url, headers={"x-qos": "0"})).status_code == 200:
        events.append(answer.json())
    assert answer.status_code == 204
    return events


def _stock_key(material: str, plant: str, location: str) -> dict[str, str]:
    blank = ("Batch", "Supplier", "Customer", "WBSElementInternalID", "SDDocument")
    return {
        "Material": material,
        "Plant": plant,
        "StorageLocation": location,
        **dict.fromkeys(blank, ""),
        "SDDocumentItem": "",
        "InventorySpecialStockType": "",
        "InventoryStockType": "01",
    }


def test_stock_count_and_goods_issue_raise_material_stock_changed(s4) -> None:
    _queue(s4, "stock", STOCK_TOPIC)
    s4.sandbox.admin.set_stock(material="TG11", plant="1710", quantity="20")
    s4.sandbox.admin.set_stock(material="TG11", plant="1710", quantity="20")  # no change
    order = s4.create_order(to_Item=[{"Material": "TG11", "RequestedQuantity": "3"}])["SalesOrder"]
    s4.fetch_token("API_OUTBOUND_DELIVERY_SRV")
    deliver_and_issue(s4, order)

    events = _consume_all(s4, "stock")
    assert [e["type"] for e in events] == [STOCK_CHANGED, STOCK_CHANGED]
    assert [e["data"] for e in events] == [_stock_key("TG11", "1710", "171A")] * 2
    assert events[0]["source"] == "/default/sap.s4.beh/S4HCLNT100"
    rows = s4.http.get(
        "API_MATERIAL_STOCK_SRV/A_MatlStkInAcctMod",
        params={"$filter": "Material eq 'TG11' and Plant eq '1710'"},
    ).json()["d"]["results"]
    assert [r["MatlWrhsStkQtyInMatlBaseUnit"] for r in rows] == ["17.00000000000000"]


def test_a_new_storage_location_raises_its_own_key(s4) -> None:
    _queue(s4, "stock-sl", STOCK_TOPIC)
    s4.sandbox.admin.set_stock(material="TG12", plant="1010", quantity="7", storage_location="101B")
    (event,) = _consume_all(s4, "stock-sl")
    assert event["data"] == _stock_key("TG12", "1010", "101B")


def test_product_description_change_raises_product_changed(s4) -> None:
    _queue(s4, "products", PRODUCT_TOPIC)
    s4.fetch_token("API_PRODUCT_SRV")
    created = s4.post(
        "API_PRODUCT_SRV/A_Product",
        {
            "Product": "EVT-STOCK-1",
            "ProductType": "HAWA",
            "BaseUnit": "PC",
            "to_Description": {"results": [{"Language": "EN", "ProductDescription": "Before"}]},
        },
    )
    assert created.status_code == 201, created.text
    renamed = s4.http.patch(
        "API_PRODUCT_SRV/A_ProductDescription(Product='EVT-STOCK-1',Language='EN')",
        json={"ProductDescription": "After"},
    )
    assert renamed.status_code == 204, renamed.text
    events = _consume_all(s4, "products")
    assert [(e["type"], e["data"]) for e in events] == [
        ("sap.s4.beh.product.v1.Product.Created.v1", {"Product": "EVT-STOCK-1"}),
        ("sap.s4.beh.product.v1.Product.Changed.v1", {"Product": "EVT-STOCK-1"}),
    ]
