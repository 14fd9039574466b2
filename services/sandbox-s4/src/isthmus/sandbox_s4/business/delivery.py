"""API_OUTBOUND_DELIVERY_SRV: deliveries created from sales orders, PostGoodsIssue moves stock."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isthmus.sandbox_kit.odata_date import format_date
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.business.stock import StockLedger
from isthmus.sandbox_s4.errors import BusinessError, MessageDetail, ResourceNotFoundError
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import EntitySet
from isthmus.sandbox_s4.odata.entities import Context, Row
from isthmus.sandbox_s4.odata.values import today_ms
from isthmus.sandbox_s4.odata.wire import EventSpec, ServiceBehaviour

SERVICE = "API_OUTBOUND_DELIVERY_SRV"
ORDERS = "API_SALES_ORDER_SRV"
STOCK = "API_MATERIAL_STOCK_SRV"


def _fail(code: str, text: str) -> BusinessError:
    return BusinessError(text, code=code, details=(MessageDetail(code, text),))


def _picking_report(item: Row) -> dict[str, Any]:
    """One `PickingReport` entry (the function import's complex return type)."""
    report: dict[str, Any] = {"__metadata": {"type": f"{SERVICE}.PickingReport"}}
    for name in (
        "DeliveryDocument",
        "DeliveryDocumentItem",
        "Material",
        "ActualDeliveryQuantity",
        "DeliveryQuantityUnit",
        "Batch",
        "DeliveryDocumentItemText",
    ):
        report[name] = item.get(name, "")
    for name in (
        "Identification",
        "Number",
        "Type",
        "Variable1",
        "Variable2",
        "Variable3",
        "Variable4",
    ):
        report[f"SystemMessage{name}"] = ""
    return report


class Deliveries:
    """Creates outbound deliveries for sales order items and posts their goods issue."""

    def __init__(self, *, master: MasterData) -> None:
        self.master = master

    def behaviour(self) -> ServiceBehaviour:
        """Creator, functions and events of the service."""
        return ServiceBehaviour(
            component_id="LE-SHP-GF",
            creators={"A_OutbDeliveryHeader": self.create_delivery},
            functions={"PostGoodsIssue": self.post_goods_issue},
            events={"A_OutbDeliveryHeader": EventSpec("OutboundDelivery", ("DeliveryDocument",))},
        )

    def _order_items(self, ctx: Context, refs: list[Row]) -> list[tuple[Row, Row, Decimal]]:
        found: list[tuple[Row, Row, Decimal]] = []
        for ref in refs:
            order_id = str(ref.get("ReferenceSDDocument", ""))
            order = ctx.store.get(service=ORDERS, entity_set="A_SalesOrder", key=(order_id,))
            if order is None:
                raise _fail("VL/302", f"Sales document {order_id or '(blank)'} does not exist")
            wanted = str(ref.get("ReferenceSDDocumentItem") or "").lstrip("0")
            items = ctx.store.rows(
                service=ORDERS, entity_set="A_SalesOrderItem", first_key=order_id
            )
            for item in items:
                if (not wanted or item["SalesOrderItem"] == wanted) and item[
                    "DeliveryStatus"
                ] != "C":
                    quantity = Decimal(
                        str(ref.get("ActualDeliveryQuantity") or item["RequestedQuantity"])
                    )
                    found.append((order, item, quantity))
        if not found:
            raise _fail("VL/028", "No items to be delivered for the referenced sales documents")
        return found

    def create_delivery(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Create a delivery from `to_DeliveryDocumentItem` references to order items.

        Raises:
            BusinessError: unknown order, nothing left to deliver, or orders of different parties.
        """
        lines = self._order_items(ctx, navs.get("to_DeliveryDocumentItem", []))
        order = lines[0][0]
        if any(o["SoldToParty"] != order["SoldToParty"] for o, _, _ in lines):
            raise _fail("VL/045", "Items of different sold-to parties cannot be delivered together")
        number = str(ctx.store.next_number(name="delivery", start=80000000))
        header = ops.new_row(es, {k: v for k, v in props.items() if k != "DeliveryDocument"})
        today = format_date(today_ms())
        org = self.master.sales_org(order["SalesOrganization"])
        header.update(
            DeliveryDocument=number,
            DeliveryDocumentType="LF",
            SoldToParty=order["SoldToParty"],
            ShipToParty=order["SoldToParty"],
            SalesOrganization=order["SalesOrganization"],
            ShippingPoint=org.shipping_point if org else "",
            PlannedGoodsIssueDate=today,
            DeliveryDate=today,
            DocumentDate=today,
            OverallGoodsMovementStatus="A",
            OverallSDProcessStatus="A",
            OverallPickingStatus="A",
            OverallDelivReltdBillgStatus="A",
        )
        ops.stamp_created(es, header, ctx.user)
        ops.insert(ctx, es, header)
        item_es = ctx.entity_set("A_OutbDeliveryItem")
        for position, (line_order, item, quantity) in enumerate(lines, start=1):
            row = self._item(
                item_es,
                number=number,
                position=position,
                order=line_order,
                item=item,
                quantity=quantity,
            )
            ops.insert(ctx, item_es, row)
            self._mark_delivered(ctx, line_order, item)
        return header

    def _item(
        self, es: EntitySet, *, number: str, position: int, order: Row, item: Row, quantity: Decimal
    ) -> Row:
        plant = self.master.plant(item["ProductionPlant"]) or {}
        row = ops.new_row(es, {})
        row.update(
            DeliveryDocument=number,
            DeliveryDocumentItem=f"{position * 10:06d}",
            DeliveryDocumentItemCategory="TAN",
            Material=item["Material"],
            DeliveryDocumentItemText=item["SalesOrderItemText"],
            ActualDeliveryQuantity=f"{quantity:.3f}",
            ActualDeliveredQtyInBaseUnit=f"{quantity:.3f}",
            DeliveryQuantityUnit=item["RequestedQuantityUnit"],
            BaseUnit=item["RequestedQuantityUnit"],
            Plant=item["ProductionPlant"],
            StorageLocation=plant.get("storage_location", ""),
            ReferenceSDDocument=order["SalesOrder"],
            ReferenceSDDocumentItem=item["SalesOrderItem"],
            GoodsMovementStatus="A",
            PickingStatus="A",
            DeliveryRelatedBillingStatus="A",
            DistributionChannel=order["DistributionChannel"],
            Division=order["OrganizationDivision"],
        )
        return row

    def _mark_delivered(self, ctx: Context, order: Row, item: Row) -> None:
        order_es = ctx.model_of(ORDERS).entity_sets["A_SalesOrder"]
        item_es = ctx.model_of(ORDERS).entity_sets["A_SalesOrderItem"]
        item.update(DeliveryStatus="C", SDProcessStatus="C")
        ctx.store.put(
            service=ORDERS, entity_set="A_SalesOrderItem", key=ops.key_of(item_es, item), row=item
        )
        items = ctx.store.rows(
            service=ORDERS, entity_set="A_SalesOrderItem", first_key=order["SalesOrder"]
        )
        done = all(i["DeliveryStatus"] == "C" for i in items)
        fresh = (
            ctx.store.get(service=ORDERS, entity_set="A_SalesOrder", key=(order["SalesOrder"],))
            or order
        )
        fresh.update(
            OverallDeliveryStatus="C" if done else "B",
            OverallTotalDeliveryStatus="C" if done else "B",
            OverallSDProcessStatus="C" if done else "B",
        )
        ops.touch(order_es, fresh, ctx.user)
        ctx.store.put(
            service=ORDERS, entity_set="A_SalesOrder", key=(fresh["SalesOrder"],), row=fresh
        )
        ctx.events.emit(
            object_type="SalesOrder", operation="Changed", data={"SalesOrder": fresh["SalesOrder"]}
        )

    def post_goods_issue(
        self, ctx: Context, params: dict[str, str], if_match: str | None
    ) -> tuple[str | None, Any]:
        """PostGoodsIssue: reduce unrestricted stock, close the goods movement status.

        Raises:
            ResourceNotFoundError: unknown delivery.
            BusinessError: already posted or not enough stock.
        """
        es = ctx.entity_set("A_OutbDeliveryHeader")
        number = params.get("DeliveryDocument", "")
        header = ctx.store.get(service=SERVICE, entity_set=es.name, key=(number,))
        if header is None:
            raise ResourceNotFoundError("Resource not found for segment 'A_OutbDeliveryHeaderType'")
        ops.check_if_match(es, header, if_match, required=ctx.require_if_match)
        if header["OverallGoodsMovementStatus"] == "C":
            raise _fail("VL/609", f"Goods issue for delivery {number} has already been posted")
        items = ctx.store.rows(service=SERVICE, entity_set="A_OutbDeliveryItem", first_key=number)
        for item in items:
            self._issue_stock(ctx, item)
            item.update(GoodsMovementStatus="C", PickingStatus="C")
            ctx.store.put(
                service=SERVICE,
                entity_set="A_OutbDeliveryItem",
                key=(number, item["DeliveryDocumentItem"]),
                row=item,
            )
        header.update(
            OverallGoodsMovementStatus="C",
            OverallPickingStatus="C",
            OverallSDProcessStatus="C",
            ActualGoodsMovementDate=format_date(today_ms()),
        )
        ops.touch(es, header, ctx.user)
        ops.save(ctx, es, header)
        ctx.events.emit(
            object_type="OutboundDelivery", operation="Changed", data={"DeliveryDocument": number}
        )
        return None, {"results": [_picking_report(item) for item in items]}

    def _issue_stock(self, ctx: Context, item: Row) -> None:
        ledger = StockLedger(store=ctx.store, model=ctx.model_of(STOCK), events=ctx.events)
        ledger.issue(
            material=item["Material"],
            plant=item["Plant"],
            storage_location=item["StorageLocation"],
            quantity=Decimal(
                item["ActualDeliveredQtyInBaseUnit"] or item["ActualDeliveryQuantity"]
            ),
            unit=item["BaseUnit"],
        )
