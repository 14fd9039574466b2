"""Metric names, declared once, and the instruments of the Kafka processing loop."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter, _Gauge

METER_NAME = "isthmus"


class MetricName(StrEnum):
    """Every metric Isthmus exports; Prometheus adds ``_total`` to counters."""

    CONSUMED = "isthmus.messages.consumed"
    PRODUCED = "isthmus.messages.produced"
    FAILED = "isthmus.messages.failed"
    RETRIED = "isthmus.messages.retried"
    DEAD_LETTERED = "isthmus.messages.dead_lettered"
    PARKED = "isthmus.messages.parked"
    REPLAYED = "isthmus.messages.replayed"
    LAG = "isthmus.consumer.lag"
    HANDLER_LATENCY = "isthmus.handler.duration"


@dataclass(frozen=True)
class RuntimeMetrics:
    """The instruments the processing loop records into (no-ops until telemetry is set up)."""

    consumed: Counter
    produced: Counter
    failed: Counter
    retried: Counter
    dead_lettered: Counter
    parked: Counter
    replayed: Counter
    lag: _Gauge
    handler_latency: Histogram

    @classmethod
    def create(cls, meter: Meter | None = None) -> RuntimeMetrics:
        """Build the instruments from ``meter`` (default: the process's ``isthmus`` meter)."""
        m = meter or metrics.get_meter(METER_NAME)

        def counter(name: MetricName, description: str) -> Counter:
            return m.create_counter(name.value, unit="{message}", description=description)

        return cls(
            consumed=counter(MetricName.CONSUMED, "Records read from input and retry topics."),
            produced=counter(MetricName.PRODUCED, "Output records produced by handlers."),
            failed=counter(MetricName.FAILED, "Records whose processing raised, by class."),
            retried=counter(MetricName.RETRIED, "Records sent to a retry topic."),
            dead_lettered=counter(MetricName.DEAD_LETTERED, "Records sent to a DLQ."),
            parked=counter(MetricName.PARKED, "Records parked behind an earlier one of its key."),
            replayed=counter(MetricName.REPLAYED, "DLQ records moved back to their source."),
            lag=m.create_gauge(
                MetricName.LAG.value, unit="{message}", description="Records behind the end."
            ),
            handler_latency=m.create_histogram(
                MetricName.HANDLER_LATENCY.value, unit="s", description="Handler call duration."
            ),
        )
