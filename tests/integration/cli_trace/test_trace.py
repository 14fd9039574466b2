"""``isthmus trace`` prints a record's journey from the real audit topic."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext
from typer.testing import CliRunner

from isthmus.cli.app import app
from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_SCHEMA, Outcome, audit_output
from isthmus.kafka.records import Record
from isthmus.schemas.factory import SerdeFactory
from isthmus.schemas.settings import SchemaSettings
from isthmus.testing.kafka import Broker, create_topics

pytestmark = pytest.mark.integration

_TRACEPARENT = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
_OTHER_TRACE = b"00-11111111111111111111111111111111-b7ad6b7169203331-01"


def _record(
    key: str, correlation: str, offset: int, traceparent: bytes = _TRACEPARENT
) -> Record[str, dict[str, object]]:
    return Record(
        topic="d365.salesorder.events",
        partition=0,
        offset=offset,
        timestamp_ms=0,
        key=key,
        value={},
        headers=[(h.TRACEPARENT, traceparent), (h.CORRELATION_ID, correlation.encode())],
    )


def test_trace_prints_every_hop_of_the_order(
    kafka_broker: Broker, unique_name, repo_root: Path
) -> None:
    topic = unique_name("audit")
    create_topics(kafka_broker, topic, partitions=2)
    serde = SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas"))
    encode = serde.serializer(value_schema=AUDIT_SCHEMA)
    producer = Producer(kafka_broker.settings.client_config())
    outputs = [
        audit_output(record=_record("order-1", "corr-1", 1), service="ingress",
                     what="webhook accepted", stage="ingest", outcome=Outcome.SUCCEEDED),
        audit_output(record=_record("order-1", "corr-1", 2), service="sap-sink",
                     what="S/4 sales order created", stage="sink", outcome=Outcome.SUCCEEDED,
                     target_id="4500001"),
        audit_output(record=_record("order-2", "corr-2", 3, _OTHER_TRACE), service="ingress",
                     what="unrelated", stage="ingest", outcome=Outcome.SUCCEEDED),
    ]  # fmt: skip
    for output in outputs:
        value = encode(output.value, SerializationContext(topic, MessageField.VALUE))
        producer.produce(topic, key=output.key, value=value)
    assert producer.flush(30) == 0

    result = CliRunner().invoke(
        app,
        ["trace", "4500001", "--topic", topic, "--bootstrap-servers",
         kafka_broker.bootstrap_servers, "--schemas-dir", str(repo_root / "schemas")],
        env={"COLUMNS": "200"},
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "webhook accepted" in result.output
    assert "S/4 sales order created" in result.output
    assert "unrelated" not in result.output
    assert "0af7651916cd43dd8448eb211c80319c" in result.output


def test_trace_of_an_unknown_key_fails_clearly(kafka_broker: Broker, unique_name) -> None:
    topic = unique_name("audit")
    create_topics(kafka_broker, topic)

    result = CliRunner().invoke(
        app, ["trace", "nope", "--topic", topic, "--bootstrap-servers",
              kafka_broker.bootstrap_servers],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "no audit events for 'nope'" in result.output
