"""Metric exemplars only when spans leave the process: else they cost and lead nowhere."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider

from isthmus.telemetry.setup import _exemplar_filter


def exemplars(*, exports_spans: bool, environ: dict[str, str]) -> int:
    """Exemplars on a histogram point recorded inside a sampled span."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        exemplar_filter=_exemplar_filter(exports_spans=exports_spans, environ=environ),
    )
    histogram = provider.get_meter("test").create_histogram("latency")
    with TracerProvider().get_tracer("test").start_as_current_span("work"):
        assert trace.get_current_span().get_span_context().trace_flags.sampled
        histogram.record(0.01)
    data = reader.get_metrics_data()
    assert data is not None
    points = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
        if isinstance(point, HistogramDataPoint)
    ]
    provider.shutdown()
    return sum(len(point.exemplars) for point in points)


def test_no_exemplars_when_no_span_is_exported() -> None:
    assert exemplars(exports_spans=False, environ={}) == 0


def test_exemplars_of_sampled_spans_when_spans_are_exported() -> None:
    assert exemplars(exports_spans=True, environ={}) == 1


def test_the_standard_variable_decides_when_set() -> None:
    environ = {"OTEL_METRICS_EXEMPLAR_FILTER": "trace_based"}
    assert exemplars(exports_spans=False, environ=environ) == 1
