"""Dataverse client under the sandbox's fault injection: token expiry, throttling, 503, drops."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.d365 import DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.d365.errors import DataverseValidationError
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.multipart import BatchOperation, ChangeSet
from isthmus.testing.sandbox_d365 import SandboxD365

from .conftest import d365_settings, own_governor

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
API = "/api/data/v9.2"


def token_calls(sandbox: SandboxD365) -> list[dict[str, object]]:
    return sandbox.admin.calls(method="POST", path=f"/{sandbox.tenant_id}/oauth2/v2.0/token")


async def _reader(client: DataverseClient, stop: asyncio.Event, done: list[int]) -> None:
    while not stop.is_set():
        await client.retrieve("accounts", {"accountnumber": "C-10001"}, select=["name"])
        done.append(1)


async def test_token_expiry_mid_run_costs_one_token_request_per_expiry(
    sandbox_d365_clean: SandboxD365,
) -> None:
    sandbox = sandbox_d365_clean
    lifetime = 3
    sandbox.admin.set_token_lifetime(lifetime)
    settings = d365_settings(sandbox)
    provider = TokenProvider(settings=settings)
    client = DataverseClient.connect(
        settings=settings, governor=own_governor(settings), token_provider=provider
    )
    sandbox.admin.clear_calls()
    stop, done = asyncio.Event(), list[int]()
    async with client:
        readers = [asyncio.create_task(_reader(client, stop, done)) for _ in range(8)]
        for _ in range(300):  # until three refreshes happened, at most 30 s
            if provider.token_requests >= 4:
                break
            await asyncio.sleep(0.1)
        stop.set()
        await asyncio.gather(*readers)  # any failed call would raise here
    calls = token_calls(sandbox)
    assert provider.token_requests >= 4
    assert len(calls) == provider.token_requests
    times = [dt.datetime.fromisoformat(str(c["time"])) for c in calls]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    # One request per expiry: a refresh happens 10% before expiry, never twice for one expiry.
    assert all(gap >= lifetime * 0.5 for gap in gaps), gaps
    assert len(done) > len(calls)


async def test_revoked_tokens_cause_one_forced_refresh(sandbox_d365_clean: SandboxD365) -> None:
    sandbox = sandbox_d365_clean
    settings = d365_settings(sandbox)
    provider = TokenProvider(settings=settings)
    client = DataverseClient.connect(
        settings=settings, governor=own_governor(settings), token_provider=provider
    )
    async with client:
        await client.retrieve("accounts", {"accountnumber": "C-10001"})
        before = provider.token_requests
        sandbox.admin.expire_tokens()
        await asyncio.gather(
            *(client.retrieve("accounts", {"accountnumber": "C-10001"}) for _ in range(20))
        )
    assert provider.token_requests == before + 1
    assert sandbox.admin.calls(status=401)


async def test_a_token_endpoint_answering_503_is_retried_not_raised(
    sandbox_d365_clean: SandboxD365,
) -> None:
    sandbox = sandbox_d365_clean
    sandbox.admin.add_fault(
        kind="status", status=503, path=f"/{sandbox.tenant_id}/oauth2/v2.0/token", times=1
    )
    settings = d365_settings(sandbox)
    provider = TokenProvider(settings=settings)
    client = DataverseClient.connect(
        settings=settings, governor=own_governor(settings), token_provider=provider
    )
    async with client:
        row = await client.retrieve("accounts", {"accountnumber": "C-10001"}, select=["name"])
    assert row.data["name"]
    # MSAL replays a 5xx for its Retry-After (5 s without one) instead of calling again.
    statuses = [c["status"] for c in token_calls(sandbox)]
    assert statuses == [503, 200]


def _no_two_throttles_in_a_row(statuses: list[int]) -> bool:
    return not any(a == b == 429 for a, b in itertools.pairwise(statuses))


async def test_burst_of_upserts_under_low_limits(sandbox_d365_clean: SandboxD365) -> None:
    sandbox = sandbox_d365_clean
    sandbox.admin.set_throttling(requests=100, execution_ms=600_000, window_s=2, concurrency=8)
    limits = BudgetLimits(
        requests_per_window=100,
        window_seconds=2,
        execution_seconds_per_window=None,
        max_concurrency=8,
    )
    settings = d365_settings(sandbox, limits=limits)
    governor = ApiGovernor(credential="burst", limits=limits)
    client = DataverseClient.connect(
        settings=settings, governor=governor, token_provider=TokenProvider(settings=settings)
    )
    sandbox.admin.clear_calls()
    async with client:
        await asyncio.gather(
            *(
                client.upsert("accounts", {"accountnumber": f"B-{i:04d}"}, {"name": f"Burst {i}"})
                for i in range(500)
            )
        )
        rows = [
            r
            async for r in client.query(
                "accounts", select=["accountnumber"], filter="startswith(accountnumber,'B-')"
            )
        ]
    assert len({r["accountnumber"] for r in rows}) == 500
    statuses = [int(c["status"]) for c in sandbox.admin.calls(path=f"{API}/accounts(")]
    assert _no_two_throttles_in_a_row(statuses), [
        (c["status"], c["time"], c["duration_ms"])
        for c in sandbox.admin.calls(path=f"{API}/accounts(")
        if c["status"] == 429
    ]
    assert governor.stats.max_in_flight <= 8
    sandbox.admin.set_throttling(
        requests=6000, execution_ms=1_200_000, window_s=300, concurrency=52
    )


async def test_503_bursts_and_drops_are_retried(
    dataverse: DataverseClient, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(kind="status", status=503, path=f"{API}/accounts(*", rate=0.3, retry_after=0)
    admin.add_fault(kind="drop", path=f"{API}/accounts(*", rate=0.2)
    admin.clear_calls()
    for i in range(20):
        await dataverse.upsert("accounts", {"accountnumber": f"F-{i}"}, {"name": f"Fault {i}"})
    admin.clear_faults()
    statuses = [int(c["status"]) for c in admin.calls(path=f"{API}/accounts(")]
    assert 503 in statuses or 0 in statuses
    for i in range(20):
        assert (await dataverse.retrieve("accounts", {"accountnumber": f"F-{i}"})).data


async def test_validation_error_is_not_retried(
    dataverse: DataverseClient, sandbox_d365_clean: SandboxD365
) -> None:
    sandbox_d365_clean.admin.clear_calls()
    with pytest.raises(DataverseValidationError) as caught:
        await dataverse.create("accounts", {"name": "x" * 500})
    assert caught.value.kind == "invalid"
    assert len(sandbox_d365_clean.admin.calls(method="POST", path=f"{API}/accounts")) == 1


async def test_batch_changeset_with_one_invalid_operation_changes_nothing(
    dataverse: DataverseClient,
) -> None:
    good = BatchOperation(
        "POST",
        dataverse.entity_path("accounts"),
        body={"name": "Atomic OK", "accountnumber": "AT-1"},
    )
    bad = BatchOperation("POST", dataverse.entity_path("accounts"), body={"name": "x" * 500})
    result = await dataverse.batch([ChangeSet([good, bad])])
    assert result.errors()
    rows = [r async for r in dataverse.query("accounts", filter="accountnumber eq 'AT-1'")]
    assert rows == []
    ok = await dataverse.batch([ChangeSet([good])])
    ok.raise_for_errors()
    rows = [r async for r in dataverse.query("accounts", filter="accountnumber eq 'AT-1'")]
    assert len(rows) == 1
