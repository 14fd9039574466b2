"""Metric names of the sinks, declared once, and their instruments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from opentelemetry.metrics import Counter, Histogram, UpDownCounter, _Gauge

from isthmus.telemetry.metrics import InstrumentSet, instrument

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
class SinkMetrics(InstrumentSet):
    """The instruments a sink loop records into (no-ops until telemetry is set up)."""

    meter_name: ClassVar[str] = METER_NAME

    commands: Counter = instrument(
        "counter",
        SinkMetricName.COMMANDS,
        "Commands finished, by entity and outcome (throughput).",
        "{command}",
    )
    latency: Histogram = instrument(
        "histogram", SinkMetricName.LATENCY, "Target time per command.", "s"
    )
    in_flight: UpDownCounter = instrument(
        "up_down_counter", SinkMetricName.IN_FLIGHT, "Commands running.", "{command}"
    )
    parked: Counter = instrument(
        "counter",
        SinkMetricName.PARKED,
        "Commands sent to a retry topic (failure, order or prerequisite).",
        "{command}",
    )
    dead_lettered: Counter = instrument(
        "counter",
        SinkMetricName.DEAD_LETTERED,
        "Commands sent to the DLQ, by failure class.",
        "{command}",
    )
    auth_failing: _Gauge = instrument(
        "gauge",
        SinkMetricName.AUTH_FAILING,
        "1 while the target refuses the credential (alert on it).",
        "1",
    )
    breaker_open: _Gauge = instrument(
        "gauge",
        SinkMetricName.BREAKER_OPEN,
        "1 while the circuit breaker of the target is open.",
        "1",
    )
