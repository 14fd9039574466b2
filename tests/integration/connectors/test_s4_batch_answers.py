"""S/4 $batch parts and typed answers against the sandbox: reads and one-create change sets."""

from __future__ import annotations

import pytest

from isthmus.connectors.s4 import S4Client
from isthmus.connectors.s4.batch import create_changeset, query_part, read_part
from isthmus.connectors.s4.errors import S4NotFoundError, S4ValidationError

from .conftest import sales_order

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
SO = "API_SALES_ORDER_SRV"


async def test_one_failing_changeset_leaves_the_others_and_answers_map_back(s4: S4Client) -> None:
    result = await s4.batch(
        SO,
        [
            create_changeset("A_SalesOrder", sales_order("BA-1")),
            create_changeset("A_SalesOrder", sales_order("BA-2", material="NOPE")),
            create_changeset("A_SalesOrder", sales_order("BA-3")),
        ],
    )
    assert len(result.responses) == 3
    first, third = result.entity_at(0), result.entity_at(2)
    assert first.data["PurchaseOrderByCustomer"] == "BA-1" and first.etag
    assert third.data["PurchaseOrderByCustomer"] == "BA-3"
    assert any(m.code == "V1/311" for m in first.messages)
    error = result.error_at(1)
    assert isinstance(error, S4ValidationError)
    assert any(d.code == "V1/392" for d in error.details)
    assert result.error_at(0) is None
    with pytest.raises(S4ValidationError):
        result.entity_at(1)


async def test_reads_in_one_batch_find_by_filter_and_key(s4: S4Client) -> None:
    created = await s4.create(SO, "A_SalesOrder", sales_order("BA-FIND 1'x"))
    number = created.data["SalesOrder"]
    result = await s4.batch(
        SO,
        [
            query_part(
                "A_SalesOrder",
                filter="PurchaseOrderByCustomer eq 'BA-FIND 1''x' and SoldToParty eq '17100001'",
                top=1,
            ),
            query_part("A_SalesOrder", filter="PurchaseOrderByCustomer eq 'BA-NONE'", top=1),
            read_part("A_SalesOrder", number),
            read_part("A_SalesOrder", "999999"),
        ],
    )
    found = result.entities_at(0)
    assert [e.data["SalesOrder"] for e in found] == [number]
    assert found[0].etag == created.etag
    assert result.entities_at(1) == []
    assert result.entity_at(2).data["SalesOrder"] == number
    assert isinstance(result.error_at(3), S4NotFoundError)
