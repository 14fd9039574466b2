"""Delivery guarantees: 503 while Kafka is down then the retry lands, duplicates and echoes."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.devenv.environment import local_kafka
from isthmus.testing.kafka import Broker

from .conftest import SAMPLES, SERDES, RunningIngress, decoded, ingress_process, records_for

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
INTEGRATION_USER = "aaaaaaaa-0000-0000-0000-000000000001"
PERSON = "bbbbbbbb-0000-0000-0000-000000000002"


def _account_update(*, user: str, name: str, account: str | None = None) -> dict[str, Any]:
    body = json.loads((SAMPLES / "d365-webhook-2.json").read_text())
    account = account or str(uuid.uuid4())
    body["OperationId"] = str(uuid.uuid4())
    body["PrimaryEntityId"] = account
    body["InitiatingUserId"] = body["UserId"] = user
    body["InputParameters"][0]["value"]["Attributes"] = [
        {"key": "name", "value": name},
        {"key": "accountnumber", "value": "C-9"},
    ]
    body["ParentContext"] = None
    return dict(body)


def test_kafka_down_answers_503_and_the_retry_lands_once(
    repo_root: Path, tmp_path: Path, sandbox_d365, sandbox_s4
) -> None:
    broker = local_kafka(root=repo_root, name=f"ingress-down-{uuid.uuid4().hex[:8]}")
    try:
        state = broker.up()
        client = Broker(bootstrap_servers=state.bootstrap_servers)
        with ingress_process(client, tmp_path, ISTHMUS_INGRESS_ACK_TIMEOUT_S="3") as ingress:
            first = _account_update(user=PERSON, name="Before the outage")
            assert ingress.webhook(first).status_code == 200
            broker.down()
            during = _account_update(user=PERSON, name="During the outage")
            refused = ingress.webhook(during)
            assert refused.status_code == 503
            with ingress.client() as http:
                assert http.get("/readyz").status_code == 503
            broker.up()
            assert ingress.webhook(during).status_code == 200
            with ingress.client() as http:
                assert http.get("/readyz").status_code == 200
            found = records_for(
                client, ingress.topics.d365["account"], str(during["PrimaryEntityId"]), expected=1
            )
            assert len(found) == 1
            assert (
                decoded(found[0], "io.isthmus.d365.AccountEvent")["data"]["name"]
                == "During the outage"
            )
    finally:
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


def test_duplicate_delivery_is_one_event_even_across_a_restart(
    kafka_broker: Broker, tmp_path: Path
) -> None:
    body = _account_update(user=PERSON, name="Once")
    with ingress_process(kafka_broker, tmp_path) as ingress:
        assert ingress.webhook(body).json()["produced"]
        assert ingress.webhook(body).json()["duplicates"] == 1
    topics = ingress.topics
    with ingress_process(kafka_broker, tmp_path, topics=topics) as again:
        assert again.webhook(body).json()["duplicates"] == 1
    key = str(body["PrimaryEntityId"])
    assert len(records_for(kafka_broker, topics.d365["account"], key, expected=None)) == 1
    audits = records_for(kafka_broker, topics.audit, key, expected=3)
    lines = [decoded(m, "io.isthmus.audit.AuditEvent") for m in audits]
    assert sorted(line["outcome"] for line in lines) == ["DUPLICATE", "DUPLICATE", "SUCCEEDED"]
    # The audit lake and the fault oracle find a hop by the topic the event went to.
    assert {line["sourceTopic"] for line in lines} == {topics.d365["account"]}
    assert {(line["service"], line["entity"]) for line in lines} == {("ingress", "account")}


def _write_state(broker: Broker, topic: str, *, key: str, fields: dict[str, str]) -> None:
    value = {
        "system": "D365",
        "entity": "account",
        "key": key,
        "fields": fields,
        "fingerprint": "computed-by-the-sink",
        "version": "1",
        "source": "WRITE",
        "observedAt": 0,
        "deleted": False,
    }
    serializer = SERDES.serializer(value_schema="io.isthmus.common.EntityState")
    raw = serializer(value, SerializationContext(topic, MessageField.VALUE))
    producer = Producer(broker.settings.client_config())
    producer.produce(topic, key=key.encode(), value=raw)
    assert producer.flush(30) == 0


def test_echo_of_our_own_write_produces_nothing(
    ingress: RunningIngress, kafka_broker: Broker
) -> None:
    # Master data (its state topic is read): a webhook names the user of that very operation,
    # so a change by the integration user is our own write, whatever it contains.
    account = str(uuid.uuid4())
    _write_state(
        kafka_broker,
        ingress.topics.state,
        key=account,
        fields={"name": "Acme", "accountnumber": "C-9"},
    )

    def answer(body: dict[str, object]) -> dict[str, object]:
        response = ingress.webhook(body)
        assert response.status_code == 200
        return dict(response.json())

    echo = _account_update(user=INTEGRATION_USER, name="Acme", account=account)
    assert answer(echo)["echoes"] == 1
    ours = _account_update(user=INTEGRATION_USER, name="Acme Corp", account=account)
    assert answer(ours)["echoes"] == 1
    person = _account_update(user=PERSON, name="Acme", account=account)
    assert answer(person)["produced"]
    produced = records_for(kafka_broker, ingress.topics.d365["account"], account, expected=1)
    assert len(produced) == 1
