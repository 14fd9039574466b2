"""Checklist item 18: fault injection per endpoint pattern, and the call log."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.integration.sandbox_s4.conftest import S4

ORDERS = "API_SALES_ORDER_SRV/A_SalesOrder"
PRODUCT = "API_PRODUCT_SRV/A_Product('TG11')"


def test_item18_error_status_for_a_counted_burst(s4) -> None:
    s4.sandbox.admin.add_fault(kind="error", status=503, path="*/A_Product*", count=2)
    statuses = [s4.http.get(PRODUCT).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert s4.http.get("API_SALES_ORDER_SRV/A_SalesOrder").status_code == 200


def test_item18_error_rate_hits_a_share_of_requests(s4) -> None:
    s4.sandbox.admin.add_fault(kind="error", status=500, path="*/A_Product*", rate=0.5)
    statuses = {s4.http.get(PRODUCT).status_code for _ in range(30)}
    assert statuses == {200, 500}


def test_item18_throttle_burst_with_retry_after(s4) -> None:
    s4.sandbox.admin.add_fault(
        kind="throttle", path="*/A_SalesOrder", method="POST", count=3, retry_after_s=2
    )
    answers = [s4.post(ORDERS, s4.order) for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 201]
    assert answers[0].headers["retry-after"] == "2"
    assert answers[0].json()["fault"]["detail"]["errorcode"] == "policies.ratelimit.QuotaViolation"
    created = s4.sandbox.admin.calls(method="POST", path_contains="A_SalesOrder")
    assert [c["status"] for c in created] == [429, 429, 429, 201]
    assert int(s4.http.get(f"{ORDERS}/$count").text) == 1


def test_item18_latency(s4) -> None:
    s4.sandbox.admin.add_fault(kind="latency", path="*/A_Product*", latency_ms=300, count=1)
    started = time.monotonic()
    assert s4.http.get(PRODUCT).status_code == 200
    assert time.monotonic() - started >= 0.3  # lower bound only: the delay is a sleep
    (rule,) = s4.sandbox.admin.request("GET", "/faults")
    assert rule["hits"] == 1


def test_item18_csrf_expiry(s4) -> None:
    s4.sandbox.admin.add_fault(kind="csrf_expiry", path="*/A_SalesOrder", method="POST", count=1)
    rejected = s4.post(ORDERS, s4.order)
    assert (rejected.status_code, rejected.headers["x-csrf-token"]) == (403, "Required")
    s4.fetch_token()
    assert s4.post(ORDERS, s4.order).status_code == 201


def test_item18_token_expiry(s4) -> None:
    sandbox = s4.sandbox
    with httpx.Client(base_url=sandbox.base_url, verify=sandbox.ssl_context()) as http:

        def token() -> dict[str, str]:
            answer = http.post(
                "/sap/bc/sec/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(sandbox.client_id, sandbox.client_secret),
            )
            return {
                "Authorization": f"Bearer {answer.json()['access_token']}",
                "Accept": "application/json",
            }

        headers = token()
        url = f"/sap/opu/odata/sap/{PRODUCT}"
        assert http.get(url, headers=headers).status_code == 200
        sandbox.admin.add_fault(kind="token_expiry", path="*/A_Product*", count=1)
        assert http.get(url, headers=headers).status_code == 401
        assert http.get(url, headers=token()).status_code == 200
        sandbox.admin.expire_tokens()
        assert http.get(url, headers=headers).status_code == 401


def test_item18_connection_drop(s4) -> None:
    s4.sandbox.admin.add_fault(kind="drop", path="*/A_Product*", count=1)
    with pytest.raises(httpx.TransportError):
        s4.http.get(PRODUCT)
    assert s4.http.get(PRODUCT).status_code == 200


def test_call_log_proves_exactly_once(s4) -> None:
    s4.sandbox.admin.clear_calls()
    s4.create_order()
    s4.http.get(ORDERS)
    posts = s4.sandbox.admin.calls(method="POST", path_contains="/A_SalesOrder")
    assert [(c["status"], c["user"]) for c in posts] == [(201, s4.sandbox.user)]
    assert json.loads(posts[0]["body"])["PurchaseOrderByCustomer"] == "WEB-1001"
    assert len(s4.sandbox.admin.calls(path_contains="/A_SalesOrder")) == 2


def test_lost_answer_applies_the_create_and_closes_without_a_byte(s4) -> None:
    s4.sandbox.admin.add_fault(kind="lost_answer", path="*/A_SalesOrder", method="POST", count=1)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        s4.post(ORDERS, s4.order)
    # the order was saved although its caller never heard of it
    found = s4.http.get(ORDERS, params={"$filter": "PurchaseOrderByCustomer eq 'WEB-1001'"})
    assert len(found.json()["d"]["results"]) == 1
    (post,) = s4.sandbox.admin.calls(method="POST", path_contains="/A_SalesOrder")
    assert (post["status"], post["fault"], post["app_status"]) == (0, "lost_answer", 201)
    assert s4.post(ORDERS, s4.order).status_code == 201  # the rule was used up


def test_lost_answer_behind_a_gateway_answers_its_timeout(s4) -> None:
    s4.sandbox.admin.add_fault(
        kind="lost_answer", path="*/A_SalesOrder", method="POST", count=1, gateway_status=504
    )
    answer = s4.post(ORDERS, s4.order)
    assert answer.status_code == 504
    assert answer.json()["fault"]["detail"]["errorcode"] == (
        "messaging.adaptors.http.flow.GatewayTimeout"
    )
    assert int(s4.http.get(f"{ORDERS}/$count").text) == 1
    (post,) = s4.sandbox.admin.calls(method="POST", path_contains="/A_SalesOrder")
    assert (post["status"], post["fault"], post["app_status"]) == (504, "lost_answer", 201)


def _batch(s4: S4, inner: str) -> httpx.Response:
    return s4.http.post(
        "API_SALES_ORDER_SRV/$batch",
        content=f"{inner}--b--\r\n".encode(),
        headers={"Content-Type": "multipart/mixed; boundary=b"},
    )


def test_lost_answer_of_a_batch_of_creates_keeps_its_change_sets(s4) -> None:
    s4.sandbox.admin.add_fault(
        kind="lost_answer", path="*/$batch", method="POST", body_contains="POST A_SalesOrder"
    )
    read = (
        "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "GET A_SalesOrder?$top=1 HTTP/1.1\r\nAccept: application/json\r\n\r\n\r\n"
    )
    assert _batch(s4, read).status_code == 202  # a batch of reads does not match the rule
    order = json.dumps({**s4.order, "PurchaseOrderByCustomer": "WEB-BATCH"})
    create = (
        "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n"
        "--c\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        "POST A_SalesOrder HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\n\r\n{order}\r\n--c--\r\n"
    )
    with pytest.raises(httpx.RemoteProtocolError):
        _batch(s4, create)
    found = s4.http.get(ORDERS, params={"$filter": "PurchaseOrderByCustomer eq 'WEB-BATCH'"})
    assert len(found.json()["d"]["results"]) == 1
    calls = s4.sandbox.admin.calls(method="POST", path_contains="$batch")
    assert [(c["status"], c["fault"], c["app_status"]) for c in calls] == [
        (202, "", None),
        (0, "lost_answer", 202),
    ]
    assert "POST A_SalesOrder" in calls[1]["body"]  # the application read the whole body
