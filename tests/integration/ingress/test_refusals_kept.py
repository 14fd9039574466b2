"""An authenticated request that is refused is answered 4xx and kept: its body and reason in
the ingress DLQ, a DEAD_LETTERED audit line; unauthenticated refusals are only logged."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from confluent_kafka import Message

from isthmus.testing.kafka import Broker, drain

from .conftest import (
    SAMPLES,
    RunningIngress,
    decoded,
    headers_of,
    ingress_process,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def keeping_ingress(
    kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningIngress, str]]:
    """An ingress with its own DLQ topic (no sandboxes: nothing here reaches hydration)."""
    with ingress_process(kafka_broker, tmp_path_factory.mktemp("refusals")) as running:
        yield running, running.topics.dlq


def _kept(broker: Broker, topic: str, marker: str) -> list[Message]:
    return [m for m in drain(broker, topic, timeout_s=10) if marker.encode() in (m.value() or b"")]


def test_a_refused_webhook_is_kept_with_its_reason_and_audited(
    keeping_ingress: tuple[RunningIngress, str], kafka_broker: Broker
) -> None:
    ingress, dlq = keeping_ingress
    body = json.loads((SAMPLES / "d365-webhook-7.json").read_text())
    marker = str(uuid.uuid4())
    body["PrimaryEntityId"] = "not-a-guid"
    body["OperationId"] = marker
    raw = json.dumps(body).encode()

    answer = ingress.webhook(raw, **{"x-ms-correlation-request-id": marker})

    assert answer.status_code == 400, answer.text
    kept_as = answer.json()["deadLetter"]
    assert kept_as["topic"] == dlq
    (record,) = _kept(kafka_broker, dlq, marker)
    assert record.value() == raw  # the body exactly as it came
    headers = headers_of(record)
    assert headers["ce_id"] == kept_as["id"]
    assert headers["isthmus_error_class"] == "MalformedError"
    refusal = answer.json()
    assert headers["isthmus_error_message"] == (
        f"{refusal['message']}: {'; '.join(refusal['violations'])}"
    )
    assert headers["isthmus_error_stage"] == "ingest"
    assert headers["isthmus_error_route"] == "dataverse-webhook"
    assert headers["isthmus_error_status"] == "400"
    assert headers["isthmus_correlation_id"] == marker
    assert headers["content-type"] == "application/json"
    audits = [
        decoded(m, "io.isthmus.audit.AuditEvent")
        for m in drain(kafka_broker, ingress.topics.audit, timeout_s=10)
    ]
    (audit,) = [a for a in audits if a["correlationId"] == marker]
    assert audit["outcome"] == "DEAD_LETTERED"
    assert audit["businessKey"] == kept_as["id"]
    assert audit["errorClass"] == "MalformedError"
    assert audit["what"].startswith("request refused with 400 and kept in the DLQ")


def test_a_publish_failing_its_schema_is_kept_and_unauthenticated_ones_are_not(
    keeping_ingress: tuple[RunningIngress, str], kafka_broker: Broker
) -> None:
    ingress, dlq = keeping_ingress
    marker, topic_marker, type_marker, anonymous_marker = (str(uuid.uuid4()) for _ in range(4))
    invalid = {"envelope": {"eventId": marker}, "data": {"colour": "red"}}
    anonymous = {"envelope": {"eventId": anonymous_marker}}

    refused = ingress.publish("d365.salesorder.events", invalid)
    unknown_topic = ingress.publish("no.such.events", {"marker": topic_marker})
    nobody = ingress.publish("d365.salesorder.events", anonymous, api_key=None)
    wrong_type = ingress.publish(
        "d365.salesorder.events", type_marker.encode(), **{"Content-Type": "text/plain"}
    )

    assert refused.status_code == 400
    assert unknown_topic.status_code == 404
    assert wrong_type.status_code == 415
    assert nobody.status_code == 401
    assert "deadLetter" not in nobody.json()
    (schema,) = _kept(kafka_broker, dlq, marker)
    headers = headers_of(schema)
    assert headers["isthmus_error_route"] == "publish-api"
    assert headers["isthmus_error_caller"] == "tests"
    assert "$.data.colour: unknown field" in headers["isthmus_error_message"]
    assert len(_kept(kafka_broker, dlq, topic_marker)) == 1
    assert len(_kept(kafka_broker, dlq, type_marker)) == 1
    assert _kept(kafka_broker, dlq, anonymous_marker) == []
    log = ingress.process.log_tail(400)
    assert anonymous_marker not in log  # an unauthenticated body is never logged


def test_a_refusal_that_cannot_be_kept_is_a_503_so_the_caller_retries(
    kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with ingress_process(
        kafka_broker,
        tmp_path_factory.mktemp("unkept"),
        # A topic that does not exist: the broker refuses the dead letter.
        ISTHMUS_INGRESS_DLQ_TOPIC=f"missing-{uuid.uuid4().hex}.dlq",
        ISTHMUS_INGRESS_ACK_TIMEOUT_S="2",
    ) as running:
        answer = running.publish("d365.salesorder.events", {"data": {"colour": "red"}})
    assert answer.status_code == 503, answer.text
    assert answer.json()["message"].startswith("Kafka did not acknowledge")
