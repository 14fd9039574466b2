"""API_SALES_ORDER_SRV: deep insert with validation, internal numbering and pricing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isthmus.sandbox_kit.odata_date import format_date
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.business.order_checks import OrderChecks, raise_if_errors
from isthmus.sandbox_s4.business.stock import StockLedger
from isthmus.sandbox_s4.errors import BusinessError, MessageDetail
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import EntitySet
from isthmus.sandbox_s4.odata.entities import Context, Row
from isthmus.sandbox_s4.odata.values import to_wire, today_ms
from isthmus.sandbox_s4.odata.wire import EventSpec, ServiceBehaviour

SERVICE = "API_SALES_ORDER_SRV"
_DEFAULT_PARTNERS = ("AG", "RE", "RG", "WE")


def _strip_zeros(number: str) -> str:
    return number.lstrip("0") or "0"


class SalesOrders:
    """Creates sales orders and items the way S/4HANA derives them."""

    def __init__(self, *, master: MasterData) -> None:
        self.master = master
        self.checks = OrderChecks(master=master)

    def behaviour(self) -> ServiceBehaviour:
        """Creators, hooks and events of the service."""
        return ServiceBehaviour(
            component_id="SD-SLS-API",
            creators={"A_SalesOrder": self.create_order, "A_SalesOrderItem": self.create_item},
            after_update={"A_SalesOrderItem": self._item_updated},
            before_delete={"A_SalesOrder": self._deletable},
            events={"A_SalesOrder": EventSpec("SalesOrder", ("SalesOrder",))},
        )

    def _number(self, ctx: Context, given: Any) -> str:
        if given:
            return _strip_zeros(str(given))
        while True:
            number = str(ctx.store.next_number(name="salesorder", start=1))
            if ctx.store.get(service=SERVICE, entity_set="A_SalesOrder", key=(number,)) is None:
                return number

    def create_order(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Deep insert of a header with `to_Item` and `to_Partner`.

        Raises:
            BusinessError: header or item validation failed (nothing is stored).
        """
        header = ops.new_row(es, props)
        area = self.checks.header(header)
        items_es = ctx.entity_set("A_SalesOrderItem")
        items: list[Row] = []
        errors: list[MessageDetail] = []
        for index, payload in enumerate(navs.get("to_Item", []), start=1):
            item_props, _ = ops.split_payload(items_es, payload)
            item = ops.new_row(items_es, item_props)
            errors += self.checks.item(item, index=index)
            items.append(item)
        raise_if_errors(errors)
        header["SalesOrder"] = self._number(ctx, props.get("SalesOrder"))
        self._derive_header(header, area)
        self._number_items(header, items)
        for item in items:
            self._price_item(ctx, header, item)
        header["TotalNetAmount"] = self._total(items, es)
        ops.stamp_created(es, header, ctx.user)
        ops.insert(ctx, es, header)
        for item in items:
            ops.stamp_created(items_es, item, ctx.user)
            ops.insert(ctx, items_es, item)
            self._schedule_line(ctx, header, item)
        self._partners(ctx, header, navs.get("to_Partner", []))
        extra = {k: v for k, v in navs.items() if k not in {"to_Item", "to_Partner"}}
        ops.create_children(ctx, es, header, extra)
        ctx.messages.insert(
            0,
            MessageDetail(
                "V1/311", f"Standard Order {header['SalesOrder']} has been saved.", "success"
            ),
        )
        return header

    def _derive_header(self, header: Row, area: Row) -> None:
        today = format_date(today_ms())
        header["TransactionCurrency"] = header["TransactionCurrency"] or area["Currency"]
        for name, source in (
            ("CustomerPaymentTerms", "CustomerPaymentTerms"),
            ("IncotermsClassification", "IncotermsClassification"),
            ("ShippingCondition", "ShippingCondition"),
        ):
            header[name] = header[name] or area.get(source, "")
        for name in ("SalesOrderDate", "PricingDate", "RequestedDeliveryDate"):
            header[name] = header[name] or today
        header["OverallSDProcessStatus"] = "A"
        header["OverallTotalDeliveryStatus"] = "A"
        header["OverallDeliveryStatus"] = "A"
        header["OverallSDDocumentRejectionSts"] = "A"
        header["TotalCreditCheckStatus"] = ""

    def _number_items(self, header: Row, items: list[Row]) -> None:
        used = {int(i["SalesOrderItem"]) for i in items if str(i["SalesOrderItem"]).isdigit()}
        step = max(used, default=0)
        for item in items:
            item["SalesOrder"] = header["SalesOrder"]
            if not str(item["SalesOrderItem"]).isdigit():
                step += 10
                item["SalesOrderItem"] = str(step)
            else:
                item["SalesOrderItem"] = _strip_zeros(str(item["SalesOrderItem"]))

    def _price_item(self, ctx: Context, header: Row, item: Row) -> None:
        org = self.master.sales_org(header["SalesOrganization"])
        product = self.checks.product(item["Material"]) or {}
        item["RequestedQuantityUnit"] = item["RequestedQuantityUnit"] or product.get("BaseUnit", "")
        item["SalesOrderItemCategory"] = item["SalesOrderItemCategory"] or "TAN"
        item["SalesOrderItemText"] = item["SalesOrderItemText"] or self.checks.description(
            item["Material"]
        )
        item["TransactionCurrency"] = header["TransactionCurrency"]
        item["ProductionPlant"] = item["ProductionPlant"] or (org.plant if org else "")
        item["ShippingPoint"] = item["ShippingPoint"] or (org.shipping_point if org else "")
        item["PricingDate"] = header["PricingDate"]
        item["SDProcessStatus"] = "A"
        item["DeliveryStatus"] = "A"
        price = self.master.price(sales_org=header["SalesOrganization"], material=item["Material"])
        quantity = Decimal(item["RequestedQuantity"])
        if price is None:
            position = item["SalesOrderItem"]
            text = f"Pricing error: mandatory condition PPR0 is missing in item {position}"
            ctx.messages.append(MessageDetail("V1/801", text, "warning"))
        unit_price = price[0] if price else Decimal(0)
        item["NetAmount"] = f"{(quantity * unit_price):.3f}"

    def _schedule_line(self, ctx: Context, header: Row, item: Row) -> None:
        """One schedule line per item, confirmed up to the unrestricted stock of the plant."""
        es = ctx.entity_set("A_SalesOrderScheduleLine")
        ledger = StockLedger(store=ctx.store, model=ctx.model_of("API_MATERIAL_STOCK_SRV"))
        quantity = Decimal(item["RequestedQuantity"])
        stock = ledger.available(material=item["Material"], plant=item["ProductionPlant"])
        confirmed = max(min(quantity, stock), Decimal(0))
        line = ops.new_row(es, {"SalesOrder": item["SalesOrder"], "ScheduleLine": "1"})
        line.update(
            SalesOrderItem=item["SalesOrderItem"],
            RequestedDeliveryDate=header["RequestedDeliveryDate"],
            ConfirmedDeliveryDate=header["RequestedDeliveryDate"] if confirmed else None,
            OrderQuantityUnit=item["RequestedQuantityUnit"],
            ScheduleLineOrderQuantity=item["RequestedQuantity"],
            ConfdOrderQtyByMatlAvailCheck=to_wire(
                es.entity_type.properties["ConfdOrderQtyByMatlAvailCheck"], confirmed
            ),
        )
        ops.insert(ctx, es, line)

    def _total(self, items: list[Row], es: EntitySet) -> str:
        total = sum((Decimal(i["NetAmount"]) for i in items), Decimal(0))
        scale = es.entity_type.properties["TotalNetAmount"].scale
        return f"{total:.{scale}f}"

    def _partners(self, ctx: Context, header: Row, payloads: list[Row]) -> None:
        es = ctx.entity_set("A_SalesOrderHeaderPartner")
        given = {str(p.get("PartnerFunction", "")): p for p in payloads}
        for function in dict.fromkeys([*given, *_DEFAULT_PARTNERS]):
            if not function:
                raise BusinessError("Enter a partner function", code="V1/010")
            payload = given.get(function, {"Customer": header["SoldToParty"]})
            props, _ = ops.split_payload(es, payload)
            props.update({"SalesOrder": header["SalesOrder"], "PartnerFunction": function})
            customer = str(props.get("Customer") or "")
            if customer and self.checks.customer(customer) is None:
                raise BusinessError(
                    f"Partner {customer} does not exist",
                    code="VP/112",
                    details=(MessageDetail("VP/112", f"Partner {customer} does not exist"),),
                )
            ops.insert(ctx, es, ops.new_row(es, props))

    def create_item(
        self, ctx: Context, es: EntitySet, props: Row, navs: dict[str, list[Row]]
    ) -> Row:
        """Add an item to an existing order (POST A_SalesOrderItem or .../to_Item).

        Raises:
            BusinessError: unknown order, material or quantity.
        """
        header_es = ctx.entity_set("A_SalesOrder")
        header = ctx.store.get(
            service=SERVICE, entity_set="A_SalesOrder", key=(str(props.get("SalesOrder", "")),)
        )
        if header is None:
            raise BusinessError(
                f"Sales document {props.get('SalesOrder')} does not exist", code="V1/302"
            )
        item = ops.new_row(es, props)
        raise_if_errors(self.checks.item(item, index=1))
        existing = ops.navigate(ctx, header_es, header, "to_Item")
        highest = max((int(i["SalesOrderItem"]) for i in existing), default=0)
        if not str(item["SalesOrderItem"]).isdigit():
            item["SalesOrderItem"] = str(highest + 10)
        item["SalesOrder"] = header["SalesOrder"]
        self._price_item(ctx, header, item)
        ops.stamp_created(es, item, ctx.user)
        ops.insert(ctx, es, item)
        self._refresh_total(ctx, header)
        return item

    def _deletable(self, ctx: Context, header: Row) -> None:
        """An order with deliveries has subsequent documents and cannot be deleted."""
        if header.get("OverallTotalDeliveryStatus") in {"B", "C"}:
            number = header["SalesOrder"]
            text = f"Sales document {number} has subsequent documents; deletion is not possible"
            raise BusinessError(text, code="V1/123", details=(MessageDetail("V1/123", text),))

    def _item_updated(self, ctx: Context, item: Row) -> None:
        header = ctx.store.get(
            service=SERVICE, entity_set="A_SalesOrder", key=(item["SalesOrder"],)
        )
        if header is None:
            return
        self._price_item(ctx, header, item)
        ops.save(ctx, ctx.entity_set("A_SalesOrderItem"), item)
        self._refresh_total(ctx, header)

    def _refresh_total(self, ctx: Context, header: Row) -> None:
        es = ctx.entity_set("A_SalesOrder")
        items = ops.navigate(ctx, es, header, "to_Item")
        header["TotalNetAmount"] = self._total(items, es)
        ops.touch(es, header, ctx.user)
        ops.save(ctx, es, header)
        ctx.events.emit(
            object_type="SalesOrder", operation="Changed", data={"SalesOrder": header["SalesOrder"]}
        )
