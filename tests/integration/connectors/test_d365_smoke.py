"""Dataverse client basics against the sandbox: CRUD, upsert by alternate key, paging."""

from __future__ import annotations

import pytest

from isthmus.connectors.d365 import DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.d365.errors import DataverseDuplicateError, DataverseNotFoundError
from isthmus.connectors.multipart import BatchOperation
from isthmus.testing.sandbox_d365 import SandboxD365

from .conftest import d365_settings, own_governor

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_who_am_i(dataverse: DataverseClient) -> None:
    assert "UserId" in await dataverse.who_am_i()


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


async def test_change_tracking_initial_sync_then_delta(dataverse: DataverseClient) -> None:
    created = await dataverse.create("contacts", {"firstname": "Ada", "lastname": "Tracked"})
    assert created.entity_id is not None
    initial = [p async for p in dataverse.iter_changes("contacts", select=["lastname"])]
    delta_link = initial[-1].delta_link
    assert delta_link is not None
    assert any(r.get("lastname") == "Tracked" for p in initial for r in p.rows)
    await dataverse.update("contacts", created.entity_id, {"lastname": "Changed"})
    other = await dataverse.create("contacts", {"firstname": "Bo", "lastname": "Gone"})
    assert other.entity_id is not None
    await dataverse.delete("contacts", other.entity_id)
    delta = [p async for p in dataverse.iter_changes("contacts", delta_link=delta_link)]
    rows = [r for p in delta for r in p.rows]
    deleted = [d for p in delta for d in p.deleted]
    assert [r["lastname"] for r in rows if r.get("contactid") == str(created.entity_id)] == [
        "Changed"
    ]
    assert other.entity_id in deleted
    assert delta[-1].delta_link not in (None, delta_link)


async def test_batches_are_split_to_the_configured_size(
    sandbox_d365_clean: SandboxD365,
) -> None:
    settings = d365_settings(sandbox_d365_clean, batch_size=10)
    client = DataverseClient.connect(
        settings=settings,
        governor=own_governor(settings),
        token_provider=TokenProvider(settings=settings),
    )
    ops = [
        BatchOperation(
            "PATCH",
            client.entity_path(f"accounts(accountnumber='SPLIT-{i}')"),
            body={"name": f"Split {i}"},
        )
        for i in range(25)
    ]
    sandbox_d365_clean.admin.clear_calls()
    async with client:
        result = await client.batch(ops)
    result.raise_for_errors()
    assert len(result.responses) == 25
    assert len(sandbox_d365_clean.admin.calls(method="POST", path="/api/data/v9.2/$batch")) == 3
