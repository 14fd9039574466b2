"""API_BILLING_DOCUMENT_SRV: read-only invoices, created by the billing run from deliveries."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from isthmus.sandbox_kit.odata_date import format_date
from isthmus.sandbox_s4.business.journal import (
    OUTPUT_TAX_ACCOUNT,
    RECEIVABLES_ACCOUNT,
    REVENUE_ACCOUNT,
    Journal,
    JournalHeader,
    JournalLine,
)
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.errors import BusinessError, MessageDetail, ResourceNotFoundError
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import EntitySet, ServiceModel
from isthmus.sandbox_s4.odata.entities import Context, Row
from isthmus.sandbox_s4.odata.values import to_wire, today_ms
from isthmus.sandbox_s4.odata.wire import ServiceBehaviour
from isthmus.sandbox_s4.store import Store

SERVICE = "API_BILLING_DOCUMENT_SRV"
DELIVERIES = "API_OUTBOUND_DELIVERY_SRV"
ORDERS = "API_SALES_ORDER_SRV"
# A one-page PDF stand-in for GetPDF (the real service renders the invoice form).
_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class BillingRun:
    """Bills goods-issued deliveries: one F2 invoice per delivery, posted to accounting."""

    def __init__(
        self, *, store: Store, models: dict[str, ServiceModel], master: MasterData, journal: Journal
    ) -> None:
        self.store = store
        self.models = models
        self.master = master
        self.journal = journal

    def behaviour(self) -> ServiceBehaviour:
        """Functions of the read-only service."""
        return ServiceBehaviour(
            component_id="SD-BIL-IV", functions={"GetPDF": self.get_pdf, "Cancel": self.cancel}
        )

    def due(self) -> list[str]:
        """Deliveries with goods issue posted and not yet billed."""
        return [
            row["DeliveryDocument"]
            for row in self.store.rows(service=DELIVERIES, entity_set="A_OutbDeliveryHeader")
            if row["OverallGoodsMovementStatus"] == "C"
            and row["OverallDelivReltdBillgStatus"] != "C"
        ]

    def run(self, *, ctx: Context, deliveries: list[str] | None) -> list[str]:
        """Create billing documents for the given (or all due) deliveries; return their numbers.

        Raises:
            BusinessError: a named delivery is unknown, not goods-issued or already billed.
        """
        due = set(self.due())
        wanted = deliveries if deliveries is not None else sorted(due)
        for number in wanted:
            if number not in due:
                text = f"Delivery {number} is not due for billing"
                raise BusinessError(text, code="VF/016", details=(MessageDetail("VF/016", text),))
        return [self._bill(ctx, number) for number in wanted]

    def _bill(self, ctx: Context, delivery: str) -> str:
        header_es = self.models[SERVICE].entity_sets["A_BillingDocument"]
        item_es = self.models[SERVICE].entity_sets["A_BillingDocumentItem"]
        d_items = self.store.rows(
            service=DELIVERIES, entity_set="A_OutbDeliveryItem", first_key=delivery
        )
        order_key = (d_items[0]["ReferenceSDDocument"],)
        order = self.store.get(service=ORDERS, entity_set="A_SalesOrder", key=order_key) or {}
        org = self.master.sales_org(order.get("SalesOrganization", ""))
        company = self.master.company(org.company_code if org else "")
        rate = company.tax_rate if company else Decimal(0)
        number = str(self.store.next_number(name="billing", start=90000000))
        items = [
            self._item(item_es, number, position, d_item, rate)
            for position, d_item in enumerate(d_items, start=1)
        ]
        net = sum((Decimal(i["NetAmount"]) for i in items), Decimal(0))
        tax = sum((Decimal(i["TaxAmount"]) for i in items), Decimal(0))
        company_code = company.name if company else ""
        document, year = self._post(
            ctx, number=number, order=order, company_code=company_code, net=net, tax=tax
        )
        header = self._header(header_es, number, order, net=net, tax=tax)
        header.update(CompanyCode=company_code, FiscalYear=year, AccountingDocument=document)
        ops.stamp_created(header_es, header, ctx.user)
        self.store.put(service=SERVICE, entity_set=header_es.name, key=(number,), row=header)
        for item in items:
            key = ops.key_of(item_es, item)
            self.store.put(service=SERVICE, entity_set=item_es.name, key=key, row=item)
        self._mark_billed(ctx, delivery)
        ctx.events.emit(
            object_type="BillingDocument", operation="Created", data={"BillingDocument": number}
        )
        return number

    def _post(
        self,
        ctx: Context,
        *,
        number: str,
        order: Row,
        company_code: str,
        net: Decimal,
        tax: Decimal,
    ) -> tuple[str, str]:
        """Receivable against revenue and output tax, the FI side of the invoice."""
        currency = order.get("TransactionCurrency", "")
        text = f"Invoice {number}"
        customer = order.get("SoldToParty", "")
        lines = [
            JournalLine(RECEIVABLES_ACCOUNT, net + tax, currency, text, customer=customer),
            JournalLine(REVENUE_ACCOUNT, -net, currency, text),
        ]
        if tax:
            lines.append(JournalLine(OUTPUT_TAX_ACCOUNT, -tax, currency, "Output tax"))
        header = JournalHeader(
            company_code=company_code,
            document_type="RV",
            reference=number,
            original_reference=number,
            transaction_type="SD00",
        )
        return self.journal.post(header=header, lines=lines, user=ctx.user)

    def _header(self, es: EntitySet, number: str, order: Row, *, net: Decimal, tax: Decimal) -> Row:
        row = ops.new_row(es, {})
        values = {
            "BillingDocument": number,
            "BillingDocumentType": "F2",
            "SDDocumentCategory": "M",
            "BillingDocumentCategory": "L",
            "BillingDocumentDate": format_date(today_ms()),
            "SalesOrganization": order.get("SalesOrganization", ""),
            "DistributionChannel": order.get("DistributionChannel", ""),
            "Division": order.get("OrganizationDivision", ""),
            "SoldToParty": order.get("SoldToParty", ""),
            "PayerParty": order.get("SoldToParty", ""),
            "PurchaseOrderByCustomer": order.get("PurchaseOrderByCustomer", ""),
            "TotalNetAmount": net,
            "TaxAmount": tax,
            "TotalGrossAmount": net + tax,
            "TransactionCurrency": order.get("TransactionCurrency", ""),
            "CustomerPaymentTerms": order.get("CustomerPaymentTerms", ""),
            "AccountingPostingStatus": "C",
            "AccountingTransferStatus": "C",
            "OverallBillingStatus": "C",
            "DocumentReferenceID": number,
        }
        props = es.entity_type.properties
        row.update({k: to_wire(props[k], v) for k, v in values.items() if k in props})
        return row

    def _item(self, es: Any, number: str, position: int, d_item: Row, rate: Decimal) -> Row:
        order_item = (
            self.store.get(
                service=ORDERS,
                entity_set="A_SalesOrderItem",
                key=(d_item["ReferenceSDDocument"], d_item["ReferenceSDDocumentItem"]),
            )
            or {}
        )
        quantity = Decimal(d_item["ActualDeliveryQuantity"])
        ordered = Decimal(order_item.get("RequestedQuantity") or 1) or Decimal(1)
        net = Decimal(order_item.get("NetAmount") or 0) * quantity / ordered
        tax = (net * rate).quantize(Decimal("0.01"))
        row = ops.new_row(es, {})
        row.update(
            BillingDocument=number,
            BillingDocumentItem=str(position * 10),
            Material=d_item["Material"],
            BillingDocumentItemText=d_item["DeliveryDocumentItemText"],
            BillingQuantity=f"{quantity:.3f}",
            BillingQuantityUnit=d_item["DeliveryQuantityUnit"],
            BillingQuantityInBaseUnit=f"{quantity:.3f}",
            BaseUnit=d_item["BaseUnit"],
            NetAmount=f"{net:.2f}",
            TaxAmount=f"{tax:.2f}",
            GrossAmount=f"{net + tax:.2f}",
            TransactionCurrency=order_item.get("TransactionCurrency", ""),
            Plant=d_item["Plant"],
            ReferenceSDDocument=d_item["DeliveryDocument"],
            ReferenceSDDocumentItem=d_item["DeliveryDocumentItem"],
            ReferenceSDDocumentCategory="J",
            SalesDocument=d_item["ReferenceSDDocument"],
            SalesDocumentItem=d_item["ReferenceSDDocumentItem"],
        )
        return {k: v for k, v in row.items() if k in es.entity_type.properties}

    def _mark_billed(self, ctx: Context, delivery: str) -> None:
        es = self.models[DELIVERIES].entity_sets["A_OutbDeliveryHeader"]
        key = (delivery,)
        d_header = self.store.get(service=DELIVERIES, entity_set=es.name, key=key) or {}
        d_header.update(OverallDelivReltdBillgStatus="C")
        ops.touch(es, d_header, ctx.user)
        self.store.put(
            service=DELIVERIES,
            entity_set=es.name,
            key=(d_header["DeliveryDocument"],),
            row=d_header,
        )

    def _document(self, params: dict[str, str]) -> Row:
        number = params.get("BillingDocument", "")
        row = self.store.get(service=SERVICE, entity_set="A_BillingDocument", key=(number,))
        if row is None:
            raise ResourceNotFoundError("Resource not found for segment 'A_BillingDocumentType'")
        return row

    def get_pdf(
        self, ctx: Context, params: dict[str, str], if_match: str | None
    ) -> tuple[str | None, Any]:
        """GetPDF: the invoice form as base64."""
        self._document(params)
        return None, {
            "GetPDF": {
                "__metadata": {"type": f"{SERVICE}.GetPDFResult"},
                "BillingDocumentBinary": base64.b64encode(_PDF).decode(),
            }
        }

    def cancel(
        self, ctx: Context, params: dict[str, str], if_match: str | None
    ) -> tuple[str | None, Any]:
        """Cancel: flag the invoice cancelled and create the S1 cancellation document number."""
        row = self._document(params)
        if row["BillingDocumentIsCancelled"]:
            text = f"Billing document {row['BillingDocument']} has already been cancelled"
            raise BusinessError(text, code="VF/081", details=(MessageDetail("VF/081", text),))
        cancellation = str(self.store.next_number(name="billing", start=90000000))
        row["BillingDocumentIsCancelled"] = True
        es = self.models[SERVICE].entity_sets["A_BillingDocument"]
        ops.touch(es, row, ctx.user)
        self.store.put(service=SERVICE, entity_set=es.name, key=(row["BillingDocument"],), row=row)
        result = {
            "__metadata": {"type": f"{SERVICE}.CancelResult"},
            "BillingDocument": row["BillingDocument"],
            "CancellationBillingDocument": cancellation,
            "SystemMessageType": "S",
        }
        return None, {"results": [result]}
