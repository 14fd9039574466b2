"""Dataverse client basics against the sandbox: CRUD, upsert by alternate key, paging."""

from __future__ import annotations

import pytest

from isthmus.connectors.d365 import DataverseClient
from isthmus.connectors.d365.errors import DataverseDuplicateError, DataverseNotFoundError

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_create_retrieve_update_delete(dataverse: DataverseClient) -> None:
    created = await dataverse.create("accounts", {"name": "Smoke GmbH", "accountnumber": "SM-1"})
    assert created.entity_id is not None
    record = await dataverse.retrieve("accounts", created.entity_id, select=["name"])
    assert record.data["name"] == "Smoke GmbH"
    await dataverse.update("accounts", created.entity_id, {"name": "Smoke AG"}, etag=record.etag)
    await dataverse.delete("accounts", created.entity_id)
    with pytest.raises(DataverseNotFoundError):
        await dataverse.retrieve("accounts", created.entity_id)


async def test_upsert_by_alternate_key(dataverse: DataverseClient) -> None:
    key = {"accountnumber": "UP-1"}
    first = await dataverse.upsert("accounts", key, {"name": "One"}, return_representation=True)
    second = await dataverse.upsert("accounts", key, {"name": "Two"}, return_representation=True)
    assert first.created is True
    assert second.created is False
    assert first.entity_id == second.entity_id
    with pytest.raises(DataverseDuplicateError):
        await dataverse.upsert("accounts", key, {"name": "Three"}, mode="create_only")
    with pytest.raises(DataverseNotFoundError):
        await dataverse.upsert(
            "accounts", {"accountnumber": "UP-404"}, {"name": "x"}, mode="update_only"
        )


async def test_query_pages(dataverse: DataverseClient) -> None:
    for i in range(7):
        await dataverse.upsert("accounts", {"accountnumber": f"PG-{i}"}, {"name": f"Paged {i}"})
    pages = [
        page
        async for page in dataverse.iter_pages(
            "accounts", select=["name"], filter="startswith(accountnumber,'PG-')", page_size=3
        )
    ]
    assert [len(p.rows) for p in pages] == [3, 3, 1]
