"""Outcome records of a command: result, state, xref both ways, audit; all encodable in Avro."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.records import Record
from isthmus.schemas.factory import SerdeFactory
from isthmus.schemas.settings import SchemaSettings
from isthmus.sink.assembly import OutputSerializer
from isthmus.sink.errors import CommandFailedError, FailureClass
from isthmus.sink.model import Command, ResultStatus, Success, XrefLink
from isthmus.sink.outcomes import OutcomeRecords
from isthmus.sink.topics import SinkTopics

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOPICS = SinkTopics(
    system="s4",
    catalogue=load_catalogue(Path(__file__).parents[3] / "deploy" / "topics.yaml"),
    prefix="t.",
)


def _command() -> Command:
    header = {
        "commandId": "c-1",
        "flow": "d365-salesorder-to-s4",
        "idempotency": {
            "sourceSystem": "D365",
            "sourceId": "so-1",
            "externalReference": "PO-1",
            "sourceVersion": None,
        },
        "correlationId": "corr-1",
    }
    record: Record[str, dict[str, object]] = Record(
        topic="t.s4.salesorder.commands",
        partition=0,
        offset=7,
        timestamp_ms=0,
        key="so-1",
        value={"header": header},
        headers=[],
    )
    return Command(
        record=record, entity="salesorder", origin="t.s4.salesorder.commands/0/7", raw_value=b"x"
    )


def _serializer() -> OutputSerializer:
    factory = SerdeFactory(settings=SchemaSettings(schemas_dir=REPO / "schemas"))
    return OutputSerializer(factory=factory, topics=TOPICS)


def test_success_writes_result_state_xref_pair_and_audit():
    success = Success(
        status=ResultStatus.SUCCEEDED,
        target_id="42",
        target_ids={"SalesOrder": "42"},
        state_key="42",
        state_fields={"SalesOrder": "42"},
        version="W/1",
        xref=[XrefLink("salesorder", "so-1", "42", "S4")],
    )
    outputs = OutcomeRecords(TOPICS, "sap-sink").succeeded(
        _command(), success, now=NOW, latency_ms=12.0
    )
    assert [(o.topic, o.key) for o in outputs] == [
        ("t.s4.salesorder.results", "so-1"),
        ("t.state.s4.salesorder", "42"),
        ("t.xref.ids", "salesorder:so-1"),
        ("t.xref.ids", "salesorder:s4:42"),
        ("t.audit.events", "so-1"),
    ]
    assert outputs[0].value["status"] == "SUCCEEDED" and outputs[0].value["targetId"] == "42"
    assert "12 ms" in outputs[-1].value["what"]
    serializer = _serializer()
    for output in outputs:
        assert serializer(output.value, SerializationContext(output.topic, MessageField.VALUE))


def test_dead_letter_writes_rejected_result_with_the_target_message_and_audit():
    failure = CommandFailedError(
        "Customer X does not exist", failure=FailureClass.VALIDATION, code="V1/302", http_status=400
    )
    outputs = OutcomeRecords(TOPICS, "sap-sink").dead_lettered(_command(), failure, now=NOW)
    result, audit = (o.value for o in outputs)
    assert result["status"] == "REJECTED" and result["message"] == "Customer X does not exist"
    assert result["errorCode"] == "V1/302" and result["httpStatus"] == 400
    assert audit["outcome"] == "DEAD_LETTERED" and audit["errorClass"] == "validation"
    serializer = _serializer()
    for output in outputs:
        assert serializer(output.value, SerializationContext(output.topic, MessageField.VALUE))
