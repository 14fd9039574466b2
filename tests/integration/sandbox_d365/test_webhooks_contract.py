"""Webhook delivery (README checklist 18): auth types, retry, failures, payload shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from isthmus.sandbox_d365.business.seed import sid
from isthmus.testing.sandbox_d365 import SandboxD365

pytestmark = pytest.mark.integration
ACCOUNT = sid("account:C-10001")
SAMPLES = Path(__file__).resolve().parents[3] / "services/sandbox-d365/samples"


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that answers with the queued statuses (then 200)."""

    server: ThreadingHTTPServer
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/d365"

    def wait_for(self, count: int, *, timeout_s: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length))
            hook = state["receiver"]
            hook.received.append(
                Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            )
            status = hook.statuses.pop(0) if hook.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def api(sandbox_d365_clean: SandboxD365) -> Iterator[httpx.Client]:
    with sandbox_d365_clean.api_client() as client:
        yield client


def test_item_18_webhook_key_create_payload_matches_samples(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url,
        message="Create",
        table="account",
        auth_type="WebhookKey",
        auth_value="key-123",
        mode=0,
    )
    created = api.post(
        "accounts",
        json={"name": "Hooked", "creditlimit": 10.5, "paymenttermscode": 2},
        headers={"Prefer": "return=representation"},
    ).json()
    (hit,) = receiver.wait_for(1)
    assert hit.path == "/hooks/d365?code=key-123"
    assert hit.headers["x-ms-dynamics-organization"] == "isthmus.crm4.dynamics.com"
    assert hit.headers["x-ms-dynamics-entity-name"] == "account"
    assert hit.headers["x-ms-dynamics-request-name"] == "Create"
    assert hit.headers["x-ms-correlation-request-id"] == hit.body["CorrelationId"]
    sample = json.loads((SAMPLES / "d365-webhook-7.json").read_text())
    assert set(sample) - {"Unknown"} <= set(hit.body) | {"InitiatingUserAgent"}
    assert hit.body["MessageName"] == "Create"
    assert hit.body["PrimaryEntityName"] == "account"
    assert hit.body["PrimaryEntityId"] == created["accountid"]
    assert hit.body["OutputParameters"] == [{"key": "id", "value": created["accountid"]}]
    assert (hit.body["Stage"], hit.body["Mode"]) == (40, 0)
    target = hit.body["InputParameters"][0]
    assert target["key"] == "Target"
    assert target["value"]["__type"] == "Entity:http://schemas.microsoft.com/xrm/2011/Contracts"
    attributes = {a["key"]: a["value"] for a in target["value"]["Attributes"]}
    assert attributes["name"] == "Hooked"
    assert attributes["creditlimit"] == {
        "__type": "Money:http://schemas.microsoft.com/xrm/2011/Contracts",
        "Value": 10.5,
    }
    assert attributes["paymenttermscode"]["__type"].startswith("OptionSetValue:")
    assert attributes["ownerid"]["__type"].startswith("EntityReference:")
    assert attributes["ownerid"]["LogicalName"] == "systemuser"
    assert attributes["createdon"].startswith("/Date(")
    assert hit.body["ParentContext"]["Stage"] == 30


def test_item_18_http_header_auth_update_with_filtering_attributes(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url,
        message="Update",
        table="salesorder",
        auth_type="HttpHeader",
        auth_pairs={"x-api-key": "secret-1", "x-tenant": "isthmus"},
        filtering_attributes=["statecode", "isthmus_s4status"],
        images=["post"],
        mode=1,
    )
    order = api.post(
        "salesorders", json={"name": "Watched"}, headers={"Prefer": "return=representation"}
    ).json()
    api.patch(
        f"salesorders({order['salesorderid']})", json={"description": "not watched"}
    ).raise_for_status()
    api.patch(
        f"salesorders({order['salesorderid']})", json={"isthmus_s4status": 2}
    ).raise_for_status()
    (hit,) = receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1
    assert hit.headers["x-api-key"] == "secret-1"
    assert hit.headers["x-tenant"] == "isthmus"
    attributes = {
        a["key"]: a["value"] for a in hit.body["InputParameters"][0]["value"]["Attributes"]
    }
    assert attributes["isthmus_s4status"]["Value"] == 2
    assert "description" not in attributes
    (image,) = hit.body["PostEntityImages"]
    assert image["key"] == "PostImage"
    assert {a["key"] for a in image["value"]["Attributes"]} >= {
        "name",
        "description",
        "salesorderid",
    }


def test_item_18_query_string_auth_and_fulfilment_event(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url,
        message="Update",
        table="salesorder",
        auth_type="HttpQueryString",
        auth_pairs={"k1": "v1", "k2": "v 2"},
        filtering_attributes=["statecode"],
    )
    order = api.post(
        "salesorders", json={"name": "To ship"}, headers={"Prefer": "return=representation"}
    ).json()
    close = {
        "OrderClose": {"salesorderid@odata.bind": f"/salesorders({order['salesorderid']})"},
        "Status": 100001,
    }
    api.post("FulfillSalesOrder", json=close).raise_for_status()
    (hit,) = receiver.wait_for(1)
    assert hit.path == "/hooks/d365?k1=v1&k2=v+2"
    attributes = {
        a["key"]: a["value"] for a in hit.body["InputParameters"][0]["value"]["Attributes"]
    }
    assert attributes["statecode"]["Value"] == 3
    assert hit.body["PostEntityImages"][0]["key"] == "AsynchronousStepPrimaryName"


def test_item_18_one_retry_on_503_then_success(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url, message="Delete", table="contact", mode=0
    )
    api.delete(f"contacts({sid('contact:C-10001')})").raise_for_status()
    hits = receiver.wait_for(2)
    assert len(hits) == 2
    assert hits[0].body["CorrelationId"] == hits[1].body["CorrelationId"]
    target = hits[0].body["InputParameters"][0]["value"]
    assert target["__type"].startswith("EntityReference:")
    (delivery,) = sandbox_d365_clean.admin.deliveries()
    assert (delivery["attempts"], delivery["status"], delivery["succeeded"]) == (2, 200, True)


def test_a_delivery_is_redelivered_byte_for_byte_with_a_new_request_id(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url, message="Delete", table="contact", mode=0, auth_value="key-9"
    )
    api.delete(f"contacts({sid('contact:C-10001')})").raise_for_status()
    (first,) = sandbox_d365_clean.admin.deliveries()

    again = sandbox_d365_clean.admin.redeliver(first["id"])

    original, repeated = receiver.wait_for(2)
    assert repeated.body == original.body
    assert repeated.path == original.path
    assert repeated.headers["x-request-id"] != original.headers["x-request-id"]
    assert again["redelivery_of"] == first["id"]
    assert (again["row_id"], again["succeeded"]) == (first["row_id"], True)
    assert [d["id"] for d in sandbox_d365_clean.admin.deliveries()] == [first["id"], again["id"]]
    with pytest.raises(httpx.HTTPStatusError) as missing:
        sandbox_d365_clean.admin.redeliver("00000000-0000-0000-0000-000000000000")
    assert missing.value.response.status_code == 404


def test_deliveries_are_filtered_by_entity_and_message_and_show_the_context_they_posted(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    admin = sandbox_d365_clean.admin
    admin.add_webhook(url=receiver.url, message="Update", table="account", mode=0)
    admin.add_webhook(url=receiver.url, message="Delete", table="contact", mode=0)
    api.patch(f"accounts({ACCOUNT})", json={"telephone1": "+1 555 0100"}).raise_for_status()
    api.delete(f"contacts({sid('contact:C-10001')})").raise_for_status()
    posted = {r.body["MessageName"]: r.body for r in receiver.wait_for(2)}

    (update,) = admin.deliveries(entity="account", message="Update", body=True)
    (delete,) = admin.deliveries(message="Delete")

    assert update["row_id"] == ACCOUNT
    assert update["body"] == posted["Update"]
    target = update["body"]["InputParameters"][0]["value"]["Attributes"]
    assert {"key": "telephone1", "value": "+1 555 0100"} in target
    assert (delete["entity"], "body" in delete) == ("contact", False)
    assert admin.deliveries(entity="account", message="Delete") == []


def test_item_18_async_failures_are_recorded_as_system_jobs_without_more_retries(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    receiver.statuses = [502, 504, 500]
    admin = sandbox_d365_clean.admin
    step = admin.add_webhook(url=receiver.url, message="Create", table="contact", mode=1)
    api.post("contacts", json={"lastname": "One"}).raise_for_status()
    assert len(receiver.wait_for(2)) == 2
    api.post("contacts", json={"lastname": "Two"}).raise_for_status()
    assert len(receiver.wait_for(3)) == 3
    deadline = time.monotonic() + 20
    while len(admin.deliveries(failed=True)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    failed = admin.deliveries(failed=True)
    assert [(d["attempts"], d["status"]) for d in failed] == [(2, 504), (1, 500)]
    jobs = api.get(
        f"asyncoperations?$filter=_owningextensionid_value eq {step['sdkmessageprocessingstepid']}"
        "&$select=statecode,statuscode,friendlymessage&$orderby=createdon"
    ).json()["value"]
    assert [(j["statecode"], j["statuscode"]) for j in jobs] == [(3, 31), (3, 31)]
    assert any("HTTP 504" in j["friendlymessage"] for j in jobs)


def test_item_18_sync_step_failure_rolls_the_write_back(
    api: httpx.Client, sandbox_d365_clean: SandboxD365, receiver: Receiver
) -> None:
    receiver.statuses = [500]
    sandbox_d365_clean.admin.add_webhook(
        url=receiver.url, message="Create", table="account", mode=0
    )
    tracking = api.get("accounts?$select=name", headers={"Prefer": "odata.track-changes"}).json()
    refused = api.post("accounts", json={"name": "Refused by the receiver"})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "0x80040265"
    assert api.get("accounts?$filter=name eq 'Refused by the receiver'").json()["value"] == []
    assert api.get(tracking["@odata.deltaLink"]).json()["value"] == []
    (failure,) = sandbox_d365_clean.admin.deliveries(failed=True)
    assert (failure["attempts"], failure["status"]) == (1, 500)
    accepted = api.post("accounts", json={"name": "Accepted"})
    assert accepted.status_code == 204
    assert len(receiver.wait_for(2)) == 2
