"""Bad inputs get the right status and a precise message, and nothing is produced."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import KafkaException

from isthmus.testing.kafka import Broker

from .conftest import (
    SAMPLES,
    WEBHOOK_KEY,
    RunningIngress,
    create_topics,
    decoded,
    headers_of,
    ingress_process,
    order_event,
    records_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
RATE_LIMITED = {"ISTHMUS_INGRESS_LIMITS__RATE_PER_S": "0.1", "ISTHMUS_INGRESS_LIMITS__BURST": "3"}
MESH_OAUTH_CLIENT = {
    "ISTHMUS_INGRESS_SAP__OAUTH_CLIENT_ID": "mesh-client",
    "ISTHMUS_INGRESS_SAP__OAUTH_CLIENT_SECRET": "mesh-secret",
}


@contextlib.contextmanager
def _http_to_ingress(broker: Broker, log_dir: Path, **settings: str) -> Iterator[httpx.Client]:
    """A plain HTTP client to a fresh ingress process started with ``settings``."""
    with (
        ingress_process(broker, log_dir, topics=None, d365=None, s4=None, **settings) as ingress,
        httpx.Client(base_url=ingress.url) as http,
    ):
        yield http


def test_bad_requests_are_refused_and_nothing_is_produced(
    ingress: RunningIngress, kafka_broker: Broker
) -> None:
    body = json.loads((SAMPLES / "d365-webhook-7.json").read_text())
    key = str(uuid.uuid4())
    body["PrimaryEntityId"] = key
    raw = json.dumps(body).encode()
    with ingress.client() as http:
        url = "/v1/webhooks/dataverse"
        no_key = http.post(url, content=raw, headers={"Content-Type": "application/json"})
        wrong = http.post(
            url, params={"code": "guess"}, content=raw, headers={"Content-Type": "application/json"}
        )
        as_text = http.post(
            url, params={"code": WEBHOOK_KEY}, content=raw, headers={"Content-Type": "text/plain"}
        )
        broken = http.post(
            url,
            params={"code": WEBHOOK_KEY},
            content=raw[:-5],
            headers={"Content-Type": "application/json"},
        )
        huge = http.post(
            url,
            params={"code": WEBHOOK_KEY},
            content=b'{"x": "' + b"a" * 2_000_000 + b'"}',
            headers={"Content-Type": "application/json"},
        )
        not_context = http.post(url, params={"code": WEBHOOK_KEY}, json={"MessageName": "Create"})
        sap_no_auth = http.post("/v1/webhooks/sap", json={"id": "1"})
        sap_wrong = http.post("/v1/webhooks/sap", json={"id": "1"}, auth=("event-mesh", "nope"))

    assert (no_key.status_code, no_key.json()["message"]) == (401, "credentials required")
    assert (wrong.status_code, wrong.json()["message"]) == (403, "credentials refused")
    assert as_text.status_code == 415
    assert broken.status_code == 400 and broken.json()["message"].startswith("body is not JSON")
    assert huge.status_code == 413
    assert not_context.status_code == 400
    assert not_context.json()["violations"] == [
        "$.PrimaryEntityName: required field is missing",
        "$.PrimaryEntityId: required field is missing",
    ]
    assert (sap_no_auth.status_code, sap_wrong.status_code) == (401, 403)
    assert (
        records_for(kafka_broker, ingress.topics.d365["account"], key, expected=None, timeout_s=3)
        == []
    )


def test_publish_api_validates_against_the_topic_schema(
    ingress: RunningIngress, kafka_broker: Broker
) -> None:
    with contextlib.suppress(KafkaException):  # it exists already after an earlier test
        create_topics(kafka_broker, "d365.salesorder.events")
    order_id = str(uuid.uuid4())
    good = order_event(order_id)
    bad = order_event(order_id)
    bad["data"]["totalamount"] = "twelve"
    del bad["data"]["name"]
    bad["data"]["colour"] = "red"
    refused = ingress.publish("d365.salesorder.events", bad)
    unknown = ingress.publish("no.such.topic", good)
    accepted = ingress.publish(
        "d365.salesorder.events", good, traceparent=f"00-{'ab' * 16}-{'cd' * 8}-01"
    )
    repeated = ingress.publish("d365.salesorder.events", good)

    assert refused.status_code == 400
    violations = refused.json()["violations"]
    assert "$.data.name: required field is missing" in violations
    assert "$.data.colour: unknown field" in violations
    assert any(v.startswith("$.data.totalamount: expected decimal") for v in violations)
    assert unknown.status_code == 404
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["key"] == order_id
    assert repeated.status_code == 200
    (record,) = records_for(kafka_broker, "d365.salesorder.events", order_id, expected=1)
    assert decoded(record, "io.isthmus.d365.SalesOrderEvent")["data"]["name"] == "Web order 1001"
    assert headers_of(record)["traceparent"].split("-")[1] == "ab" * 16


def test_rate_limit_per_source(kafka_broker: Broker, tmp_path: Path) -> None:
    with _http_to_ingress(kafka_broker, tmp_path, **RATE_LIMITED) as http:
        statuses = [
            http.post("/v1/webhooks/dataverse", params={"code": WEBHOOK_KEY}, json={}).status_code
            for _ in range(4)
        ]
        limited = http.post("/v1/webhooks/dataverse", params={"code": WEBHOOK_KEY}, json={})
        other_source = http.post("/v1/webhooks/sap", json={})
    assert statuses == [400, 400, 400, 429]
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert other_source.status_code == 401


def test_event_mesh_oauth_client_credentials(kafka_broker: Broker, tmp_path: Path) -> None:
    event = (SAMPLES / "s4-event-4.json").read_bytes()
    headers = {"Content-Type": "application/json"}
    with _http_to_ingress(kafka_broker, tmp_path, **MESH_OAUTH_CLIENT) as http:
        form = {"grant_type": "client_credentials"}
        refused = http.post("/v1/oauth/token", data=form, auth=("mesh-client", "wrong"))
        issued = http.post("/v1/oauth/token", data=form, auth=("mesh-client", "mesh-secret"))
        token = issued.json()["access_token"]
        accepted = http.post(
            "/v1/webhooks/sap",
            content=event,
            headers={**headers, "Authorization": f"Bearer {token}"},
        )
        forged = http.post(
            "/v1/webhooks/sap",
            content=event,
            headers={**headers, "Authorization": f"Bearer {token[:-4]}beef"},
        )
        handshake = http.options(
            "/v1/webhooks/sap", headers={"WebHook-Request-Origin": "eventmesh.example"}
        )
    assert refused.status_code == 403
    assert issued.status_code == 200 and issued.json()["token_type"] == "bearer"
    assert (accepted.status_code, accepted.json()["status"]) == (200, "ignored")
    assert forged.status_code == 403
    assert handshake.headers["webhook-allowed-origin"] == "eventmesh.example"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": ' * 2_000 + b"1" + b"}" * 2_000, "body is nested deeper than"),
        (b'{"MessageName": "Update", "MessageName": "Delete"}', "body is not JSON: key"),
        (b'{"PrimaryEntityName": "\\ud800"}', "body is not valid text: lone surrogate"),
        (b'{"totalamount": NaN}', "body is not JSON: NaN"),
    ],
    ids=["deep", "duplicate-key", "lone-surrogate", "nan"],
)
def test_ambiguous_json_is_a_400_on_every_endpoint(
    ingress: RunningIngress, body: bytes, message: str
) -> None:
    dataverse = ingress.webhook(body)
    sap = ingress.sap_event(body)
    publish = ingress.publish("d365.salesorder.events", body)

    for answer in (dataverse, sap, publish):
        assert answer.status_code == 400, answer.text
        assert answer.json()["message"].startswith(message)


def test_a_repeated_webhook_key_is_refused_not_decided_by_its_last_value(
    ingress: RunningIngress,
) -> None:
    body = json.loads((SAMPLES / "d365-webhook-7.json").read_text())
    with ingress.client() as http:
        answer = http.post(
            "/v1/webhooks/dataverse",
            params=[("code", "guess"), ("code", WEBHOOK_KEY)],
            json=body,
        )

    assert answer.status_code == 400
    assert answer.json()["violations"] == ["?code: appears more than once"]
