"""Checklist item 16: business events as CloudEvents, webhook push and the Event Mesh REST API."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest

BASIC = "Basic " + base64.b64encode(b"hook:secret").decode()


@dataclass
class Receiver:
    """A real HTTP webhook receiver on 127.0.0.1 with scripted answers."""

    url: str = ""
    fail_first: int = 0
    allow_origin: bool = True
    expected_auth: str | None = BASIC
    options: list[dict[str, str]] = field(default_factory=list)
    posts: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def delivered(self) -> list[Any]:
        with self.lock:
            return [body for status, _, body in self.posts if status == 200]


def wait_for(condition: Callable[[], Any], timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _answer(
            self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            origin = self.headers.get("WebHook-Request-Origin", "")
            with receiver.lock:
                receiver.options.append({"origin": origin})
            headers = {"WebHook-Allowed-Origin": origin} if receiver.allow_origin else {}
            self._answer(200, headers=headers)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/token":
                token = json.dumps(
                    {"access_token": "receiver-token", "token_type": "bearer", "expires_in": 300}
                )
                self._answer(200, token.encode(), {"Content-Type": "application/json"})
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            with receiver.lock:
                failing = len(receiver.posts) < receiver.fail_first
                authorized = receiver.expected_auth in (None, headers.get("authorization"))
                status = 401 if not authorized else 503 if failing else 200
                receiver.posts.append((status, headers, json.loads(body)))
            self._answer(status)

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def test_item16_webhook_handshake_basic_auth_and_retry(s4, receiver: Receiver) -> None:
    receiver.fail_first = 2
    subscription = s4.sandbox.admin.subscribe_events(
        name="orders",
        endpoint=f"{receiver.url}/hook",
        topics=["sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"],
        auth={"type": "basic", "user": "hook", "password": "secret"},
    )
    assert subscription["handshakeStatus"] == "SUCCESS"
    assert receiver.options == [{"origin": "localhost"}]
    order = s4.create_order()["SalesOrder"]
    (event,) = wait_for(receiver.delivered)
    assert list(event) == ["type", "specversion", "source", "id", "time", "datacontenttype", "data"]
    assert event["type"] == "sap.s4.beh.salesorder.v1.SalesOrder.Created.v1"
    assert event["specversion"] == "1.0" and event["datacontenttype"] == "application/json"
    assert event["source"] == "/default/sap.s4.beh/S4HCLNT100"
    assert re.fullmatch(r"[0-9a-f-]{36}", event["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["data"] == {"SalesOrder": order}
    statuses = [status for status, _, _ in receiver.posts]
    assert statuses == [503, 503, 200]
    assert all(headers["authorization"] == BASIC for _, headers, _ in receiver.posts)
    assert all(h["content-type"] == "application/json" for _, h, _ in receiver.posts)
    attempts = wait_for(lambda: s4.sandbox.admin.deliveries(subscription="orders")[2:])
    assert attempts[0]["attempt"] == 3 and attempts[0]["status"] == 200


def test_item16_handshake_refused_until_retriggered(s4, receiver: Receiver) -> None:
    receiver.allow_origin = False
    receiver.expected_auth = None
    refused = s4.sandbox.admin.subscribe_events(
        name="bp", endpoint=f"{receiver.url}/hook", topics=["*"]
    )
    assert (refused["handshakeStatus"], refused["subscriptionState"]) == ("FAILED", "PAUSED")
    s4.fetch_token("API_BUSINESS_PARTNER")
    body = {"BusinessPartnerCategory": "1", "FirstName": "Ada", "LastName": "Lovelace"}
    partner = s4.post("API_BUSINESS_PARTNER/A_BusinessPartner", body).json()["d"]["BusinessPartner"]
    time.sleep(0.5)  # give a (wrong) push the chance to happen
    assert receiver.posts == []
    receiver.allow_origin = True
    answer = s4.http.post(f"{s4.sandbox.base_url}/messagingrest/v1/subscriptions/bp/handshake")
    assert answer.json()["subscriptionState"] == "ACTIVE"
    (event,) = wait_for(receiver.delivered)
    assert event["type"] == "sap.s4.beh.businesspartner.v1.BusinessPartner.Created.v1"
    assert event["data"] == {"BusinessPartner": partner}


def test_item16_webhook_oauth2_to_the_receiver(s4, receiver: Receiver) -> None:
    receiver.expected_auth = "Bearer receiver-token"
    s4.sandbox.admin.subscribe_events(
        name="products",
        endpoint=f"{receiver.url}/hook",
        topics=["sap.s4.beh.product.v1.Product.Created.v1"],
        auth={
            "type": "oauth2",
            "grantType": "client_credentials",
            "clientId": "c",
            "clientSecret": "s",
            "tokenUrl": f"{receiver.url}/token",
        },
    )
    s4.fetch_token("API_PRODUCT_SRV")
    assert (
        s4.post(
            "API_PRODUCT_SRV/A_Product", {"Product": "EVT-1", "ProductType": "HAWA"}
        ).status_code
        == 201
    )
    (event,) = wait_for(receiver.delivered)
    assert event["data"] == {"Product": "EVT-1"}


def test_item16_event_mesh_queues_topics_and_consume(s4) -> None:
    http, base = s4.http, s4.sandbox.base_url
    management = f"{base}/hub/rest/api/v1/management/messaging/queues"
    assert http.put(f"{management}/bp-queue").status_code == 201
    topic = "default/sap.s4/S4H/ce/sap/s4/beh/businesspartner/v1/BusinessPartner/*/v1"
    assert (
        http.put(f"{management}/bp-queue/subscriptions/{quote(topic, safe='')}").status_code == 201
    )
    s4.fetch_token("API_BUSINESS_PARTNER")
    partner = s4.post(
        "API_BUSINESS_PARTNER/A_BusinessPartner",
        {"BusinessPartnerCategory": "2", "OrganizationBPName1": "Mesh Ltd"},
    ).json()["d"]
    consume = f"{base}/messagingrest/v1/queues/bp-queue/messages/consumption"
    message = http.post(consume, headers={"x-qos": "1"})
    assert message.status_code == 200
    event = message.json()
    assert event["type"] == "sap.s4.beh.businesspartner.v1.BusinessPartner.Created.v1"
    assert event["data"] == {"BusinessPartner": partner["BusinessPartner"]}
    ack = http.post(
        f"{base}/messagingrest/v1/queues/bp-queue/messages/{message.headers['x-message-id']}/acknowledgement"
    )
    assert ack.status_code == 200
    assert http.post(consume, headers={"x-qos": "1"}).status_code == 204
    published = http.post(
        f"{base}/messagingrest/v1/topics/{quote(topic.replace('*', 'Changed'), safe='')}/messages",
        json={"hello": "mesh"},
        headers={"x-qos": "0"},
    )
    assert published.status_code == 204
    assert http.post(consume, headers={"x-qos": "0"}).json() == {"hello": "mesh"}
    queues = http.get(management).json()
    assert [(q["name"], q["messageCount"]) for q in queues] == [("bp-queue", 0)]
    assert http.get(management, auth=("x", "y")).status_code == 401


def test_item16_qos0_is_not_retried(s4, receiver: Receiver) -> None:
    receiver.fail_first = 1
    receiver.expected_auth = None
    s4.sandbox.admin.subscribe_events(
        name="once", endpoint=f"{receiver.url}/hook", topics=["*"], qos=0, exempt_handshake=True
    )
    assert receiver.options == []
    first = s4.create_order()["SalesOrder"]
    second = s4.create_order()["SalesOrder"]
    (event,) = wait_for(receiver.delivered)
    assert event["data"] == {"SalesOrder": second}
    assert [body["data"] for _, _, body in receiver.posts] == [
        {"SalesOrder": first},
        {"SalesOrder": second},
    ]
