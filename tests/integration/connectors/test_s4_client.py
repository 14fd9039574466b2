"""S/4 client against the sandbox: reads, deep insert, ETag updates, $batch, journal entry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from isthmus.connectors.multipart import BatchOperation, ChangeSet
from isthmus.connectors.s4 import S4Client
from isthmus.connectors.s4.errors import S4PreconditionError, S4ValidationError
from isthmus.connectors.s4.soap import JournalEntry, JournalLine
from isthmus.testing.sandbox_s4 import SandboxS4

from .conftest import sales_order

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
SO = "API_SALES_ORDER_SRV"


async def test_deep_insert_read_and_etag_update(s4: S4Client) -> None:
    created = await s4.create(SO, "A_SalesOrder", sales_order("DEEP-1"))
    number = created.data["SalesOrder"]
    assert created.etag
    assert created.messages  # the sandbox's sap-message header, surfaced on the result
    read = await s4.read(SO, "A_SalesOrder", number, expand=["to_Item"])
    assert len(read.data["to_Item"]["results"]) == 1
    await s4.update(
        SO, "A_SalesOrder", number, {"PurchaseOrderByCustomer": "DEEP-1b"}, etag=read.etag
    )
    with pytest.raises(S4PreconditionError):
        await s4.update(
            SO, "A_SalesOrder", number, {"PurchaseOrderByCustomer": "x"}, etag=read.etag
        )
    # Without an ETag the client reads the current one first.
    await s4.update(SO, "A_SalesOrder", number, {"PurchaseOrderByCustomer": "DEEP-1c"})


async def test_business_error_is_typed_with_sap_details(s4: S4Client) -> None:
    with pytest.raises(S4ValidationError) as caught:
        await s4.create(SO, "A_SalesOrder", sales_order("BAD-1", material="NO-SUCH-MAT"))
    assert caught.value.code
    assert "/" in caught.value.code
    assert caught.value.kind == "invalid"


async def test_paging_follows_next(s4: S4Client, sandbox_s4_clean: SandboxS4) -> None:
    sandbox_s4_clean.admin.settings(page_size=2)
    for i in range(5):
        await s4.create(SO, "A_SalesOrder", sales_order(f"PAGE-{i}"))
    pages = [
        page
        async for page in s4.iter_pages(
            SO,
            "A_SalesOrder",
            filter="startswith(PurchaseOrderByCustomer,'PAGE-')",
            select=["SalesOrder"],
        )
    ]
    assert sum(len(p.rows) for p in pages) == 5
    assert len(pages) >= 3


async def test_batch_changeset_is_atomic(s4: S4Client) -> None:
    good = BatchOperation("POST", "A_SalesOrder", body=sales_order("BATCH-OK"))
    bad = BatchOperation("POST", "A_SalesOrder", body=sales_order("BATCH-BAD", material="NOPE"))
    result = await s4.batch(SO, [ChangeSet([good, bad])])
    assert result.errors()
    assert await s4.query(SO, "A_SalesOrder", filter="PurchaseOrderByCustomer eq 'BATCH-OK'") == []
    ok = await s4.batch(SO, [ChangeSet([good])])
    assert ok.errors() == []
    assert (
        len(await s4.query(SO, "A_SalesOrder", filter="PurchaseOrderByCustomer eq 'BATCH-OK'")) == 1
    )


async def test_journal_entry_posting(s4: S4Client) -> None:
    entry = JournalEntry(
        company_code="1710",
        document_date=date(2026, 1, 15),
        posting_date=date(2026, 1, 15),
        reference="INV-1",
        lines=[
            JournalLine(
                amount=Decimal("100.00"), currency="USD", debit_credit="S", debtor="17100001"
            ),
            JournalLine(
                amount=Decimal("100.00"), currency="USD", debit_credit="H", gl_account="41000000"
            ),
        ],
    )
    confirmation = await s4.post_journal_entry(entry)
    assert confirmation.accounting_document.strip("0")
    assert confirmation.company_code == "1710"


async def test_function_import_posts_goods_issue(s4: S4Client) -> None:
    order = await s4.create(SO, "A_SalesOrder", sales_order("GI-1"))
    service = "API_OUTBOUND_DELIVERY_SRV"
    body = {"to_DeliveryDocumentItem": [{"ReferenceSDDocument": order.data["SalesOrder"]}]}
    delivery = await s4.create(service, "A_OutbDeliveryHeader", body)
    number = delivery.data["DeliveryDocument"]
    header = await s4.read(service, "A_OutbDeliveryHeader", number)
    await s4.call_function(
        service, "PostGoodsIssue", params={"DeliveryDocument": number}, etag=header.etag or "*"
    )
    posted = await s4.read(service, "A_OutbDeliveryHeader", number)
    assert posted.data["OverallGoodsMovementStatus"] == "C"
