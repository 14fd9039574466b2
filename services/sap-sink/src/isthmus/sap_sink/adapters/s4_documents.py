"""S/4 document commands of sap-sink: outbound delivery + goods issue, billing, journal entry."""

from __future__ import annotations

from typing import Any

from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.errors import S4NotFoundError
from isthmus.connectors.s4.idempotency import SALES_ORDER_SERVICE
from isthmus.connectors.s4.odata import v2_literal
from isthmus.connectors.s4.soap import JournalEntry, JournalLine
from isthmus.sap_sink.core import payloads as p
from isthmus.sink.errors import CommandFailedError, DependencyMissingError, FailureClass
from isthmus.sink.model import Command, ResultStatus, Success
from isthmus.sink.xref import XrefKeys

DELIVERY_SERVICE = "API_OUTBOUND_DELIVERY_SRV"
BILLING_SERVICE = "API_BILLING_DOCUMENT_SRV"
JOURNAL_SERVICE = "API_JOURNALENTRYITEMBASIC_SRV"


class DocumentCommands:
    """Deliveries, billing documents and journal entries; each looks for an earlier result first."""

    _client: S4Client
    _xref: XrefKeys | None
    _billing_run_url: str | None

    async def _require(self, entity: str, number: str, service: str, entity_set: str) -> None:
        if self._xref is not None and self._xref.has(f"{entity}:s4:{number}"):
            return
        try:
            await self._client.read(service, entity_set, number)
        except S4NotFoundError as exc:
            raise DependencyMissingError(f"{entity} {number} is not in S/4 yet") from exc

    async def _delivery(self, command: Command) -> Success:
        value = command.value
        order = str(value["SalesOrder"])
        await self._require("salesorder", order, SALES_ORDER_SERVICE, "A_SalesOrder")
        delivery = value.get("DeliveryDocument") or await self._find_delivery(order)
        created = False
        if not delivery and value.get("action") != "POST_GOODS_ISSUE":
            delivery, created = await self._create_delivery(value), True
        if not delivery:
            raise DependencyMissingError(f"no outbound delivery for sales order {order} yet")
        if value.get("action") in ("POST_GOODS_ISSUE", "CREATE_AND_POST_GOODS_ISSUE"):
            created = await self._post_goods_issue(str(delivery)) or created
        return Success(
            status=ResultStatus.SUCCEEDED if created else ResultStatus.DUPLICATE,
            target_id=str(delivery),
            target_ids={"DeliveryDocument": str(delivery), "SalesOrder": order},
        )

    async def _find_delivery(self, order: str) -> str | None:
        return await self._follow_up(
            DELIVERY_SERVICE, "A_OutbDeliveryItem", order, document="DeliveryDocument"
        )

    async def _follow_up(
        self, service: str, entity_set: str, reference: str, *, document: str
    ) -> str | None:
        """The ``document`` number of the first item that references ``reference``, if any."""
        rows = await self._client.query(
            service,
            entity_set,
            filter=f"ReferenceSDDocument eq '{reference}'",
            select=[document],
            top=1,
        )
        return str(rows[0][document]) if rows else None

    async def _create_delivery(self, value: dict[str, Any]) -> str:
        items = [p.v2_body(i) for i in value.get("to_DeliveryDocumentItem") or []]
        if not items:
            items = [{"ReferenceSDDocument": str(value["SalesOrder"])}]
        body = p.v2_body(
            value,
            drop=(
                "SalesOrder",
                "DeliveryDocument",
                "to_DeliveryDocumentItem",
                "ActualGoodsMovementDate",
            ),
        )
        body["to_DeliveryDocumentItem"] = items
        entity = await self._client.create(DELIVERY_SERVICE, "A_OutbDeliveryHeader", body)
        return str(entity.data["DeliveryDocument"])

    async def _post_goods_issue(self, delivery: str) -> bool:
        header = await self._client.read(DELIVERY_SERVICE, "A_OutbDeliveryHeader", delivery)
        if header.data.get("OverallGoodsMovementStatus") == "C":
            return False
        await self._client.call_function(
            DELIVERY_SERVICE,
            "PostGoodsIssue",
            params={"DeliveryDocument": delivery},
            etag=header.etag or "*",
        )
        return True

    async def _billing(self, command: Command) -> Success:
        delivery = str(command.value["SDDocument"])
        existing = await self._follow_up(
            BILLING_SERVICE, "A_BillingDocumentItem", delivery, document="BillingDocument"
        )
        if existing is not None:
            return self._billed(existing, delivery, ResultStatus.DUPLICATE)
        if self._billing_run_url is None:
            raise CommandFailedError(
                "billing is not configured for this S/4 system", failure=FailureClass.VALIDATION
            )
        response = await self._client.http.post(
            self._billing_run_url, json={"deliveries": [delivery]}
        )
        documents = response.json().get("billing_documents", []) if response.is_success else []
        if not documents:
            raise CommandFailedError(
                f"delivery {delivery} could not be billed",
                failure=FailureClass.BUSINESS,
                http_status=response.status_code,
            )
        return self._billed(str(documents[0]), delivery, ResultStatus.SUCCEEDED)

    @staticmethod
    def _billed(number: str, delivery: str, status: ResultStatus) -> Success:
        return Success(
            status=status,
            target_id=number,
            state_key=number,
            target_ids={"BillingDocument": number, "DeliveryDocument": delivery},
            state_fields={"BillingDocument": number, "SDDocument": delivery},
        )

    async def _journal_entry(self, command: Command) -> Success:
        value = command.value
        reference = str(value["OriginalReferenceDocument"])
        found = await self._client.query(
            JOURNAL_SERVICE,
            "A_JournalEntryItemBasic",
            filter=f"OriginalReferenceDocument eq {v2_literal(reference)} and CompanyCode eq "
            f"{v2_literal(str(value['CompanyCode']))}",
            select=["AccountingDocument"],
            top=1,
        )
        if found:
            number = str(found[0]["AccountingDocument"])
            status = ResultStatus.DUPLICATE
        else:
            confirmation = await self._client.post_journal_entry(_journal(value))
            number, status = confirmation.accounting_document, ResultStatus.SUCCEEDED
        return Success(status=status, target_id=number, target_ids={"AccountingDocument": number})


def _journal(value: dict[str, Any]) -> JournalEntry:
    lines = [
        JournalLine(
            amount=item["AmountInTransactionCurrency"]["amount"],
            currency=item["AmountInTransactionCurrency"]["currencyCode"],
            debit_credit=item["DebitCreditCode"],
            gl_account=item.get("GLAccount") or "",
            debtor=item.get("Debtor") or "",
            text=item.get("DocumentItemText") or "",
            cost_center=item.get("CostCenter") or "",
            profit_center=item.get("ProfitCenter") or "",
        )
        for item in [*value.get("Item", []), *value.get("DebtorItem", [])]
    ]
    return JournalEntry(
        company_code=value["CompanyCode"],
        document_date=value["DocumentDate"],
        posting_date=value["PostingDate"],
        reference=value["OriginalReferenceDocument"],
        lines=lines,
        document_type=value["AccountingDocumentType"],
        header_text=value.get("DocumentHeaderText") or "",
        transaction_type=value["BusinessTransactionType"],
    )
