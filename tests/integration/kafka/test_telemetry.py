"""The loop's spans carry the messaging attributes and the trace crosses the hop; metrics count."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from isthmus.kafka import headers as h
from isthmus.kafka.errors import InvalidRecordError
from isthmus.kafka.records import Output, Record
from isthmus.telemetry.metrics import MetricName, RuntimeMetrics
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, group_loop, produce, running

pytestmark = pytest.mark.integration

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_spans_metrics_and_correlation_follow_each_record(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group()
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("isthmus")

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        if record.value == b"bad":
            raise InvalidRecordError("no SoldToParty")
        return [Output(topic=group.output, key=record.key, value=record.value)]

    produce(
        kafka_broker,
        group.source,
        [(b"k1", b"ok"), (b"k2", b"bad")],
        headers=[(h.TRACEPARENT, PARENT.encode()), (h.CORRELATION_ID, b"corr-7")],
    )
    processor = group_loop(
        kafka_broker,
        group,
        handler,
        metrics=RuntimeMetrics.create(meter),
        spans=tracer_provider.get_tracer("test"),
    )
    with running(processor):
        outputs = drain(kafka_broker, group.output, expected=1)
        drain(kafka_broker, group.routes.dlq, expected=1)
    consumer_spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert len(consumer_spans) == 2
    span = consumer_spans[0]
    assert span.name == f"process {group.source}"
    assert span.attributes is not None
    assert span.attributes["messaging.system"] == "kafka"
    assert span.attributes["messaging.destination.name"] == group.source
    assert span.attributes["messaging.consumer.group.name"] == group.name
    assert span.attributes["messaging.kafka.offset"] == 0
    assert format(span.context.trace_id, "032x") == PARENT.split("-")[1]  # continued the trace
    out_headers = h.of(outputs[0])
    assert h.get(out_headers, h.CORRELATION_ID) == b"corr-7"
    traceparent = (h.get_str(out_headers, h.TRACEPARENT) or "").split("-")
    assert traceparent[1] == PARENT.split("-")[1]
    assert traceparent[2] == format(span.context.span_id, "016x")  # the next hop's parent
    data = reader.get_metrics_data()
    assert data is not None
    points = {
        metric.name: sum(getattr(p, "value", 0) for p in metric.data.data_points)
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }
    assert points[MetricName.CONSUMED] == 2
    assert points[MetricName.PRODUCED] == 1
    assert points[MetricName.DEAD_LETTERED] == 1
    assert points[MetricName.FAILED] == 1
