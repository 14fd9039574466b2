"""The command header fields and record headers the transformer adds to every command."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from isthmus.kafka import headers as h
from isthmus.kafka.records import Output
from isthmus.mapping import Flow
from isthmus.transformer.core.commands import (
    FLOW_HEADER,
    FLOW_VERSION_HEADER,
    command_id,
    command_output,
)
from isthmus.transformer.core.dispatch import FlowSet
from tests.unit.transformer.conftest import XREF, record, sample

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
TRACEPARENT = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _output(flow_set: FlowSet) -> tuple[Flow, dict[str, Any], Output]:
    flow = flow_set.flows["d365-salesorder-to-s4"]
    event = sample("d365-salesorder-created")
    source = record(event, headers=[(h.TRACEPARENT, TRACEPARENT)])
    result = flow.apply(event, XREF)
    assert result.target is not None
    return (
        flow,
        event,
        command_output(target=result.target, flow=flow, record=source, event=event, now=NOW),
    )


def test_the_header_gets_command_id_time_flow_and_both_ids(flow_set: FlowSet) -> None:
    flow, event, output = _output(flow_set)
    header = output.value["header"]
    assert header["flow"] == f"d365-salesorder-to-s4@{flow.version}"
    assert header["issuedAt"] == NOW
    assert header["causationId"] == event["envelope"]["eventId"]
    assert header["correlationId"] == event["envelope"]["correlationId"]
    assert header["idempotency"]["sourceId"] == event["data"]["salesorderid"]
    assert output.topic == "s4.salesorder.commands"
    assert output.key == event["data"]["salesorderid"]


def test_the_record_headers_name_the_flow_version_and_carry_cloudevents(flow_set: FlowSet) -> None:
    flow, event, output = _output(flow_set)
    headers = output.headers
    assert headers[FLOW_HEADER] == b"d365-salesorder-to-s4"
    assert headers[FLOW_VERSION_HEADER] == str(flow.version).encode()
    assert headers[h.CE_ID] == output.value["header"]["commandId"].encode()
    assert headers[h.CE_TYPE] == b"io.isthmus.s4.SalesOrderCommand"
    assert headers[h.CE_SOURCE] == b"/isthmus/transformer/d365-salesorder-to-s4"
    assert headers[h.CE_SPECVERSION] == b"1.0"
    assert headers[h.CE_SUBJECT] == event["data"]["salesorderid"].encode()
    assert headers[h.CE_TIME] == b"2026-11-26T05:00:00.000Z"
    assert headers[h.CORRELATION_ID] == event["envelope"]["correlationId"].encode()
    assert headers[h.TRACEPARENT] == TRACEPARENT


def test_the_command_id_is_stable_per_input_record_and_flow_version(flow_set: FlowSet) -> None:
    flow = flow_set.flows["d365-salesorder-to-s4"]
    event = sample("d365-salesorder-created")
    again = command_id(record=record(event, offset=7), flow=flow)
    assert command_id(record=record(event, offset=7), flow=flow) == again
    assert command_id(record=record(event, offset=8), flow=flow) != again
