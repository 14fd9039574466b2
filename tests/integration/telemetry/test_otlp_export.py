"""Spans reach a real OTLP/HTTP receiver: in-process, and from a running transformer."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace import TracerProvider

from isthmus.kafka import headers as h
from isthmus.telemetry.export import otlp_span_processors
from isthmus.telemetry.setup import service_resource
from isthmus.testing.kafka import drain
from tests.integration.telemetry.receiver import OtlpReceiver
from tests.integration.transformer.conftest import ACCOUNT, EVENT_SCHEMA, Stage


def test_a_span_is_exported_to_the_configured_endpoint(
    otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_receiver.endpoint)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES", raising=False)
    provider = TracerProvider(resource=service_resource(service="otlp-test"))
    for processor in otlp_span_processors(environ=os.environ):
        provider.add_span_processor(processor)
    with provider.get_tracer("test").start_as_current_span("one") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()  # flushes the batch

    (received,) = otlp_receiver.wait_for(trace_id=trace_id)
    assert received.name == "one"
    assert received.resource["service.name"] == "otlp-test"


def _send_traced(stage: Stage, event: dict[str, Any], traceparent: str) -> None:
    serializer = stage.serdes.serializer(value_schema=EVENT_SCHEMA)
    value = serializer(event, SerializationContext(stage.source, MessageField.VALUE))
    producer = stage.producer()
    producer.produce(
        stage.source,
        key=event["data"]["salesorderid"].encode(),
        value=value,
        headers=[
            (h.TRACEPARENT, traceparent.encode()),
            (h.CORRELATION_ID, event["envelope"]["eventId"].encode()),
        ],
    )
    producer.flush(10)


def test_the_transformer_exports_the_span_of_a_record_in_its_trace_by_its_exit(
    stage: Stage,
    make_order: Callable[..., dict[str, Any]],
    otlp_receiver: OtlpReceiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_receiver.endpoint)
    # no scheduled export while the test runs: the spans leave when SIGTERM flushes them
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=it")
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    stage.send_xref(entity="account", d365=ACCOUNT, s4="17100001")
    stage.start()
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    order = make_order(1)
    _send_traced(stage, order, f"00-{trace_id}-{parent_id}-01")

    (command,) = drain(stage.broker, stage.commands, expected=1, timeout_s=30)
    outgoing = dict(h.of(command))[h.TRACEPARENT].decode()
    assert outgoing.split("-")[1] == trace_id
    assert stage.process is not None
    assert stage.process.stop() == 0
    spans = otlp_receiver.wait_for(trace_id=trace_id, timeout_s=5)
    (span,) = [s for s in spans if s.name == f"process {stage.source}"]
    assert span.kind == Span.SPAN_KIND_CONSUMER
    assert span.parent_span_id == parent_id
    assert span.resource["service.name"] == "transformer"
    assert span.resource["deployment.environment.name"] == "it"
    assert span.attributes["messaging.kafka.message.key"] == order["data"]["salesorderid"]
    assert outgoing.split("-")[2] == span.span_id  # the command continues from this span
