"""Audit records are valid AuditEvents that carry the hop's coordinates, trace and digest."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import fastavro
import pytest

from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC, Outcome, audit_output, trace_id
from isthmus.kafka.records import Record
from isthmus.schemas.catalogue import SchemaCatalogue

pytestmark = pytest.mark.unit

_TRACEPARENT = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _record() -> Record[str, dict[str, object]]:
    return Record(
        topic="d365.salesorder.events",
        partition=3,
        offset=42,
        timestamp_ms=0,
        key="5b9a2c7e-0000-0000-0000-000000000001",
        value={},
        headers=[(h.TRACEPARENT, _TRACEPARENT), (h.CORRELATION_ID, b"corr-1")],
        attempt=1,
    )


def test_audit_output_is_a_valid_audit_event(repo_root: Path) -> None:
    output = audit_output(
        record=_record(),
        service="transformer",
        what="S/4 sales order command emitted",
        stage="map",
        outcome=Outcome.SUCCEEDED,
        flow="d365-salesorder-to-s4@3",
        entity="salesorder",
        raw_value=b"payload",
        now=datetime(2026, 11, 26, tzinfo=UTC),
    )
    schema = SchemaCatalogue.load(repo_root / "schemas").get(AUDIT_SCHEMA).parsed

    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, output.value)
    buffer.seek(0)
    decoded = cast(dict[str, Any], fastavro.schemaless_reader(buffer, schema, None))

    assert output.topic == AUDIT_TOPIC
    assert output.key == "5b9a2c7e-0000-0000-0000-000000000001"
    assert decoded["businessKey"] == output.key
    assert decoded["attempt"] == 2
    assert decoded["traceId"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert decoded["correlationId"] == "corr-1"
    assert (decoded["sourceTopic"], decoded["sourcePartition"], decoded["sourceOffset"]) == (
        "d365.salesorder.events",
        3,
        42,
    )
    assert decoded["payloadDigest"] == (
        "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"
    )
    assert output.headers[h.TRACEPARENT] == _TRACEPARENT


def test_trace_id_ignores_malformed_traceparent() -> None:
    assert trace_id([(h.TRACEPARENT, b"garbage")]) is None
    assert trace_id([]) is None
