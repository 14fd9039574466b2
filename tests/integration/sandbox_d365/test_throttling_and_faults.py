"""Service protection limits (README checklist 17) and fault injection, as configured."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from isthmus.testing.sandbox_d365 import SandboxD365

pytestmark = pytest.mark.integration


@pytest.fixture
def api(sandbox_d365_clean: SandboxD365) -> Iterator[httpx.Client]:
    with sandbox_d365_clean.api_client() as client:
        yield client


def test_item_17_request_count_limit(api: httpx.Client, sandbox_d365_clean: SandboxD365) -> None:
    sandbox_d365_clean.admin.set_throttling(
        requests=3, execution_ms=10_000_000, window_s=60, concurrency=52
    )
    for _ in range(3):
        ok = api.get("WhoAmI")
        assert ok.status_code == 200
    assert ok.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "0"
    throttled = api.get("WhoAmI")
    assert throttled.status_code == 429
    assert int(throttled.headers["Retry-After"]) >= 1
    assert throttled.json() == {
        "error": {
            "code": "0x80072322",
            "message": "Number of requests exceeded the limit of 3 over time window of 60 seconds.",
        }
    }


def test_item_17_window_slides(api: httpx.Client, sandbox_d365_clean: SandboxD365) -> None:
    sandbox_d365_clean.admin.set_throttling(
        requests=2, execution_ms=10_000_000, window_s=1, concurrency=52
    )
    assert [api.get("WhoAmI").status_code for _ in range(3)] == [200, 200, 429]
    deadline = time.monotonic() + 10
    status = 429
    while status == 429 and time.monotonic() < deadline:
        response = api.get("WhoAmI")
        status = response.status_code
        if status == 429:
            time.sleep(int(response.headers["Retry-After"]))
    assert status == 200


def test_item_17_execution_time_limit(api: httpx.Client, sandbox_d365_clean: SandboxD365) -> None:
    sandbox_d365_clean.admin.set_throttling(
        requests=1000, execution_ms=50, window_s=60, concurrency=52
    )
    sandbox_d365_clean.admin.add_fault(
        kind="latency", path="/api/data/v9.2/WhoAmI", latency_ms=80, times=1
    )
    assert api.get("WhoAmI").status_code == 200
    throttled = api.get("WhoAmI")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "0x80072321"
    assert throttled.json()["error"]["message"].startswith(
        "Combined execution time of incoming requests exceeded limit of 50 milliseconds over "
        "time window of 60 seconds."
    )


def test_item_17_concurrency_limit(sandbox_d365_clean: SandboxD365) -> None:
    admin = sandbox_d365_clean.admin
    admin.set_throttling(requests=1000, execution_ms=10_000_000, window_s=60, concurrency=1)
    admin.add_fault(
        kind="latency", path="/api/data/v9.2/accounts", method="GET", latency_ms=3000, times=1
    )
    slow_status: list[int] = []
    with sandbox_d365_clean.api_client() as slow_client, sandbox_d365_clean.api_client() as client:
        worker = threading.Thread(
            target=lambda: slow_status.append(slow_client.get("accounts").status_code)
        )
        worker.start()
        codes: set[str] = set()
        while worker.is_alive() and "0x80072326" not in codes:
            response = client.get("WhoAmI")
            if response.status_code == 429:
                codes.add(response.json()["error"]["code"])
                assert (
                    response.json()["error"]["message"]
                    == "Number of concurrent requests exceeded the limit of 1."
                )
                assert "Retry-After" in response.headers
            time.sleep(0.05)
        worker.join(timeout=30)
    assert "0x80072326" in codes
    assert slow_status == [200]


def test_fault_503_then_success_creates_exactly_once(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(
        kind="status",
        status=503,
        path="/api/data/v9.2/salesorders",
        method="POST",
        times=2,
        retry_after=1,
    )
    body = {"name": "Retried order"}
    statuses = []
    for _ in range(3):
        response = api.post("salesorders", json=body)
        statuses.append(response.status_code)
        if response.status_code == 204:
            break
        assert response.headers["Retry-After"] == "1"
        assert set(response.json()["error"]) == {"code", "message"}
    assert statuses == [503, 503, 204]
    posts = admin.calls(method="POST", path="/api/data/v9.2/salesorders")
    assert [c["status"] for c in posts] == [503, 503, 204]
    assert all(c["request_id"] for c in posts)
    assert len(api.get("salesorders?$filter=name eq 'Retried order'").json()["value"]) == 1


def test_fault_429_burst_with_retry_after(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    sandbox_d365_clean.admin.add_fault(
        kind="throttle", path="/api/data/v9.2/*", retry_after=2, times=3
    )
    burst = [api.get("accounts") for _ in range(4)]
    assert [r.status_code for r in burst] == [429, 429, 429, 200]
    assert burst[0].headers["Retry-After"] == "2"
    assert burst[0].json()["error"]["code"] == "0x80072322"


def test_fault_rate_zero_never_fires_and_rate_one_always(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(kind="status", status=500, path="/api/data/v9.2/contacts*", rate=0.0)
    assert all(api.get("contacts").status_code == 200 for _ in range(5))
    admin.clear_faults()
    admin.add_fault(kind="status", status=502, path="/api/data/v9.2/contacts*", rate=1.0)
    assert {api.get("contacts").status_code for _ in range(3)} == {502}


def test_fault_token_expiry_and_connection_drop(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(kind="token_expired", path="/api/data/v9.2/accounts", times=1)
    expired = api.get("accounts")
    assert expired.status_code == 401
    assert "WWW-Authenticate" in expired.headers
    assert api.get("accounts").status_code == 200
    admin.add_fault(kind="drop", path="/api/data/v9.2/products", times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("products")
    assert api.get("products").status_code == 200


def test_fault_latency_is_recorded(api: httpx.Client, sandbox_d365_clean: SandboxD365) -> None:
    sandbox_d365_clean.admin.add_fault(kind="latency", path="/api/data/v9.2/uoms", latency_ms=200)
    sandbox_d365_clean.admin.clear_calls()
    assert api.get("uoms").status_code == 200
    (call,) = sandbox_d365_clean.admin.calls(path="/api/data/v9.2/uoms")
    assert call["duration_ms"] >= 200


def test_fault_lost_answer_upsert_is_applied_but_unanswered(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    target = "accounts(isthmus_s4businesspartner='LOST-1')"
    admin.add_fault(kind="lost_answer", path="/api/data/v9.2/accounts*", method="PATCH", times=1)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        api.patch(target, json={"name": "Applied, unanswered"})
    assert api.get(target).json()["name"] == "Applied, unanswered"
    (call,) = admin.calls(method="PATCH", path="/api/data/v9.2/accounts")
    assert (call["status"], call["fault"], call["app_status"]) == (0, "lost_answer", 204)
    assert api.patch(target, json={"name": "Again"}).status_code == 204  # the rule is used up
    found = api.get("accounts?$filter=isthmus_s4businesspartner eq 'LOST-1'").json()["value"]
    assert [a["name"] for a in found] == ["Again"]


def test_fault_lost_answer_behind_a_gateway_answers_its_status(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_fault(
        kind="lost_answer",
        path="/api/data/v9.2/salesorders",
        method="POST",
        times=1,
        gateway_status=504,
    )
    answer = api.post("salesorders", json={"name": "Saved behind a timeout"})
    assert answer.status_code == 504
    assert set(answer.json()["error"]) == {"code", "message"}
    assert len(api.get("salesorders?$filter=name eq 'Saved behind a timeout'").json()["value"]) == 1
    (call,) = admin.calls(method="POST", path="/api/data/v9.2/salesorders")
    assert (call["status"], call["fault"], call["app_status"]) == (504, "lost_answer", 204)
