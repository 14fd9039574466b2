"""Dataverse client logic over httpx.MockTransport: auth, paging, batch, retries, spans."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.d365 import D365Settings, DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.d365.batch import chunk_parts
from isthmus.connectors.d365.errors import (
    DataverseAuthenticationError,
    DataverseValidationError,
)
from isthmus.connectors.exchange import Exchanger
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.multipart import BatchOperation, ChangeSet
from isthmus.connectors.retry import RetryPolicy

pytestmark = [pytest.mark.unit, pytest.mark.anyio]
SECRET = "very-secret-value"


class FakeApp:
    """Stands in for MSAL's ConfidentialClientApplication in unit tests; counts token requests."""

    def __init__(self, *, lifetime: int = 3600, error: str | None = None) -> None:
        self.calls = 0
        self.lifetime = lifetime
        self.error = error
        self.token_cache = FakeCache()
        self._lock = threading.Lock()

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        with self._lock:
            self.calls += 1
            n = self.calls
        if self.error:
            return {"error": self.error, "error_description": "AADSTS7000215: Invalid secret."}
        return {"access_token": f"token-{n}", "expires_in": self.lifetime}


class FakeCache:
    def search(self, _kind: object) -> list[object]:
        return []

    def remove_at(self, _entry: object) -> None:
        return None


def settings(**overrides: Any) -> D365Settings:
    base: dict[str, Any] = {
        "environment_url": "https://org.example",
        "tenant_id": "tenant",
        "client_id": "client",
        "client_secret": SECRET,
        "retry": RetryPolicy(initial_backoff_seconds=0.001, jitter_seconds=0.0, max_attempts=4),
        "limits": BudgetLimits(requests_per_window=None, execution_seconds_per_window=None),
    }
    base.update(overrides)
    return D365Settings.model_validate(base)


def client_for(
    handler: Callable[[httpx.Request], httpx.Response], app: FakeApp | None = None, **kw: Any
) -> tuple[DataverseClient, FakeApp]:
    app = app or FakeApp()
    s = settings(**kw)
    provider = TokenProvider(settings=s, app_factory=lambda _s: app)
    client = DataverseClient.connect(
        settings=s,
        governor=ApiGovernor(credential="unit", limits=s.limits),
        token_provider=provider,
        transport=httpx.MockTransport(handler),
    )
    return client, app


async def test_one_token_request_for_many_concurrent_calls() -> None:
    client, app = client_for(lambda r: httpx.Response(200, json={"value": []}))
    async with client:
        await asyncio.gather(
            *(client.retrieve("accounts", {"accountnumber": "A"}) for _ in range(30))
        )
    assert app.calls == 1


async def test_401_forces_exactly_one_refresh() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer token-1":
            return httpx.Response(401, json={"error": {"code": "", "message": "expired"}})
        return httpx.Response(200, json={"accountid": "x"})

    client, app = client_for(handler)
    async with client:
        await asyncio.gather(
            *(client.retrieve("accounts", {"accountnumber": "A"}) for _ in range(5))
        )
    assert app.calls == 2
    assert seen.count("Bearer token-2") == 5


async def test_refused_credential_is_fatal_and_unretried() -> None:
    client, app = client_for(lambda r: httpx.Response(200), app=FakeApp(error="invalid_client"))
    async with client:
        with pytest.raises(DataverseAuthenticationError) as caught:
            await client.retrieve("accounts", {"accountnumber": "A"})
    assert caught.value.kind == "fatal"
    assert app.calls == 1


async def test_paging_follows_next_link_with_the_page_size() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["prefer"] == "odata.maxpagesize=2"
        token = request.url.params.get("$skiptoken")
        if token is None:
            assert request.url.params["$select"] == "name"
            return httpx.Response(
                200,
                json={
                    "value": [{"name": "a"}, {"name": "b"}],
                    "@odata.nextLink": "https://org.example/api/data/v9.2/accounts?$select=name&$skiptoken=2",
                },
            )
        return httpx.Response(200, json={"value": [{"name": "c"}]})

    client, _ = client_for(handler)
    async with client:
        names = [r["name"] async for r in client.query("accounts", select=["name"], page_size=2)]
    assert names == ["a", "b", "c"]


async def test_change_tracking_hands_back_the_delta_link() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert "odata.track-changes" in request.headers["prefer"]
        return httpx.Response(
            200,
            json={
                "value": [
                    {"accountid": "1", "name": "new"},
                    {
                        "@odata.context": "x/$metadata#accounts/$deletedEntity",
                        "id": "6d81597f-0f9f-e711-8122-000d3aa2331c",
                        "reason": "deleted",
                    },
                ],
                "@odata.deltaLink": "https://org.example/api/data/v9.2/accounts?$deltatoken=919042",
            },
        )

    client, _ = client_for(handler)
    async with client:
        pages = [p async for p in client.iter_changes("accounts", select=["name"])]
    assert pages[-1].delta_link is not None
    assert pages[0].rows == [{"accountid": "1", "name": "new"}]
    assert str(pages[0].deleted[0]) == "6d81597f-0f9f-e711-8122-000d3aa2331c"


async def test_503_is_retried_and_400_is_not() -> None:
    calls = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if request.method == "PATCH" and calls["n"] < 3:
            return httpx.Response(503, json={"error": {"code": "", "message": "busy"}})
        if request.method == "POST":
            return httpx.Response(400, json={"error": {"code": "0x80044331", "message": "bad"}})
        return httpx.Response(204)

    client, _ = client_for(handler)
    async with client:
        await client.upsert("accounts", {"accountnumber": "A"}, {"name": "x"})
        assert calls["n"] == 3
        with pytest.raises(DataverseValidationError):
            await client.create("accounts", {"name": "x"})
    assert calls["n"] == 4


def test_batches_are_split_at_the_limit_without_splitting_change_sets() -> None:
    op = BatchOperation("PATCH", "/api/data/v9.2/accounts(accountnumber='a')", body={})
    parts = [op] * 1500 + [ChangeSet([op] * 600)]
    chunks = list(chunk_parts(parts, limit=1000))
    sizes = [sum(len(p.operations) if isinstance(p, ChangeSet) else 1 for p in c) for c in chunks]
    assert sizes == [1000, 500, 600]
    with pytest.raises(ValueError, match="exceeds the batch limit"):
        list(chunk_parts([ChangeSet([op] * 1001)], limit=1000))


async def test_batch_round_trip() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content.decode()
        assert "Content-ID: 1" in body
        assert request.headers["content-type"].startswith("multipart/mixed; boundary=batch_")
        answer = (
            "--batchresponse_1\r\n"
            "Content-Type: multipart/mixed; boundary=changesetresponse_1\r\n\r\n"
            "--changesetresponse_1\r\nContent-Type: application/http\r\n"
            "Content-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n"
            "HTTP/1.1 204 No Content\r\nOData-Version: 4.0\r\n\r\n\r\n"
            "--changesetresponse_1--\r\n--batchresponse_1--\r\n"
        )
        return httpx.Response(
            200,
            content=answer.encode(),
            headers={"content-type": "multipart/mixed; boundary=batchresponse_1"},
        )

    client, _ = client_for(handler)
    op = BatchOperation("POST", client.entity_path("accounts"), body={"name": "a"}, content_id="1")
    async with client:
        result = await client.batch([ChangeSet([op])])
    assert [r.status for r in result.responses] == [204]
    assert result.responses[0].content_id == "1"


async def test_spans_name_the_template_and_never_the_token() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    client, _ = client_for(lambda r: httpx.Response(200, json={"accountid": "1"}))
    client._exchanger = Exchanger(
        client=client.http,
        governor=None,
        system="dataverse",
        map_error=lambda r: DataverseValidationError("x"),
        tracer=provider.get_tracer("t"),
    )
    async with client:
        await client.retrieve("accounts", {"accountnumber": "A-1"})
    (span,) = exporter.get_finished_spans()
    assert span.name == "GET accounts(accountnumber={accountnumber})"
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    dumped = json.dumps(dict(span.attributes))
    assert "token-1" not in dumped
    assert SECRET not in dumped
    assert "A-1" not in dumped
