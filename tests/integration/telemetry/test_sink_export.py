"""sap-sink as a real process exports the span of a command, and its S/4 call, in its trace."""

from __future__ import annotations

import secrets

from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from isthmus.kafka import headers as h
from tests.integration.sinks.conftest import SinkHarness, sales_order
from tests.integration.telemetry.receiver import OtlpReceiver

SCHEMA = "io.isthmus.s4.SalesOrderCommand"


def _produce_traced(sink: SinkHarness, key: str, traceparent: str) -> None:
    topic = sink.topics.commands
    value = sink.factory.serializer(value_schema=SCHEMA)(
        sales_order(key=key, reference=f"TRACE-{key}"),
        SerializationContext(topic, MessageField.VALUE),
    )
    producer = Producer(sink.broker.settings.client_config())
    producer.produce(topic, value, key.encode(), headers=[(h.TRACEPARENT, traceparent.encode())])
    producer.flush(30)


def test_the_sap_sink_exports_its_spans_in_the_commands_trace(
    sap_sink: SinkHarness, otlp_receiver: OtlpReceiver
) -> None:
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    _produce_traced(sap_sink, "traced-1", f"00-{trace_id}-{parent_id}-01")
    sap_sink.start(
        extra={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
    )
    (result,) = sap_sink.decode(sap_sink.topics.results, expected=1)
    assert result[1]["status"] == "SUCCEEDED"

    spans = otlp_receiver.wait_for(trace_id=trace_id, kind=Span.SPAN_KIND_CONSUMER)
    (consumer,) = [s for s in spans if s.kind == Span.SPAN_KIND_CONSUMER]
    assert consumer.parent_span_id == parent_id
    assert consumer.resource["service.name"] == "sap-sink"
    assert consumer.attributes["messaging.kafka.message.key"] == "traced-1"
    calls = {s.name for s in spans if s.kind == Span.SPAN_KIND_CLIENT}
    assert "POST API_SALES_ORDER_SRV/A_SalesOrder" in calls  # the create in S/4
    children = {s.parent_span_id for s in spans if s.kind == Span.SPAN_KIND_CLIENT}
    assert children == {consumer.span_id}  # every S/4 call sits under the command's span
