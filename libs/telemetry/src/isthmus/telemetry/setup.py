"""Set up logging, tracing and metrics for one process, once, at its entry point."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from isthmus.telemetry.logs import configure_logging

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Telemetry:
    """What ``setup_telemetry`` built; keep it to shut the providers down on exit."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    metrics_port: int | None = None
    readers: tuple[MetricReader, ...] = field(default=())

    def shutdown(self) -> None:
        """Flush and stop the providers (spans and metrics still buffered are exported)."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def setup_telemetry(
    *,
    service: str,
    log_level: str = "INFO",
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    span_processors: tuple[SpanProcessor, ...] = (),
    metric_readers: tuple[MetricReader, ...] = (),
) -> Telemetry:
    """Configure JSON logs and the global OpenTelemetry tracer and meter providers.

    Args:
        service: ``service.name`` of the resource and the ``service`` field of every log line.
        log_level: root log level.
        metrics_port: when set, serve Prometheus ``/metrics`` on ``metrics_host:metrics_port``.
        metrics_host: the interface the metrics endpoint binds (loopback by default).
        span_processors: where spans go (an OTLP or in-memory exporter's processor).
        metric_readers: further metric readers (e.g. an in-memory reader in tests).

    Raises:
        OSError: the metrics port cannot be bound.
    """
    configure_logging(service=service, level=log_level)
    resource = Resource.create({"service.name": service})
    tracer_provider = TracerProvider(resource=resource)
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    readers = list(metric_readers)
    if metrics_port is not None:
        readers.append(_prometheus_reader(host=metrics_host, port=metrics_port))
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    logger.info("telemetry ready", extra={"metrics_port": metrics_port})
    return Telemetry(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        metrics_port=metrics_port,
        readers=tuple(readers),
    )


def _prometheus_reader(*, host: str, port: int) -> MetricReader:
    from opentelemetry.exporter.prometheus import PrometheusMetricReader  # noqa: PLC0415
    from prometheus_client import start_http_server  # noqa: PLC0415

    start_http_server(port=port, addr=host)
    return PrometheusMetricReader()
