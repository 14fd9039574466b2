"""Metric names of the sinks, declared once, and their instruments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter, UpDownCounter, _Gauge

METER_NAME = "isthmus.sink"


class SinkMetricName(StrEnum):
    """Every metric a sink exports (Prometheus adds ``_total`` to counters)."""

    COMMANDS = "isthmus.sink.commands"
    LATENCY = "isthmus.sink.command.duration"
    IN_FLIGHT = "isthmus.sink.commands.in_flight"
    PARKED = "isthmus.sink.commands.parked"
    DEAD_LETTERED = "isthmus.sink.commands.dead_lettered"
    AUTH_FAILING = "isthmus.sink.auth.failing"
    BREAKER_OPEN = "isthmus.sink.breaker.open"


@dataclass(frozen=True)
class SinkMetrics:
    """The instruments a sink loop records into (no-ops until telemetry is set up)."""

    commands: Counter
    latency: Histogram
    in_flight: UpDownCounter
    parked: Counter
    dead_lettered: Counter
    auth_failing: _Gauge
    breaker_open: _Gauge

    @classmethod
    def create(cls, meter: Meter | None = None) -> SinkMetrics:
        """Build the instruments from ``meter`` (default: the process's ``isthmus.sink``)."""
        m = meter or metrics.get_meter(METER_NAME)
        return cls(
            commands=m.create_counter(
                SinkMetricName.COMMANDS.value,
                unit="{command}",
                description="Commands finished, by entity and outcome (throughput).",
            ),
            latency=m.create_histogram(
                SinkMetricName.LATENCY.value, unit="s", description="Target time per command."
            ),
            in_flight=m.create_up_down_counter(
                SinkMetricName.IN_FLIGHT.value, unit="{command}", description="Commands running."
            ),
            parked=m.create_counter(
                SinkMetricName.PARKED.value,
                unit="{command}",
                description="Commands sent to a retry topic (failure, order or prerequisite).",
            ),
            dead_lettered=m.create_counter(
                SinkMetricName.DEAD_LETTERED.value,
                unit="{command}",
                description="Commands sent to the DLQ, by failure class.",
            ),
            auth_failing=m.create_gauge(
                SinkMetricName.AUTH_FAILING.value,
                unit="1",
                description="1 while the target refuses the credential (alert on it).",
            ),
            breaker_open=m.create_gauge(
                SinkMetricName.BREAKER_OPEN.value,
                unit="1",
                description="1 while the circuit breaker of the target is open.",
            ),
        )
