"""The sinks' instruments, each metric's name, unit and description declared once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from opentelemetry.metrics import Counter, Histogram, UpDownCounter, _Gauge

from isthmus.telemetry.metrics import InstrumentSet, instrument

METER_NAME = "isthmus.sink"


@dataclass(frozen=True)
class SinkMetrics(InstrumentSet):
    """The instruments a sink loop records into (no-ops until telemetry is set up)."""

    meter_name: ClassVar[str] = METER_NAME

    commands: Counter = instrument(
        "counter",
        "isthmus.sink.commands",
        "Commands finished, by entity and outcome (throughput).",
        "{command}",
    )
    latency: Histogram = instrument(
        "histogram", "isthmus.sink.command.duration", "Target time per command.", "s"
    )
    in_flight: UpDownCounter = instrument(
        "up_down_counter", "isthmus.sink.commands.in_flight", "Commands running.", "{command}"
    )
    parked: Counter = instrument(
        "counter",
        "isthmus.sink.commands.parked",
        "Commands sent to a retry topic (failure, order or prerequisite).",
        "{command}",
    )
    dead_lettered: Counter = instrument(
        "counter",
        "isthmus.sink.commands.dead_lettered",
        "Commands sent to the DLQ, by failure class.",
        "{command}",
    )
    auth_failing: _Gauge = instrument(
        "gauge",
        "isthmus.sink.auth.failing",
        "1 while the target refuses the credential (alert on it).",
        "1",
    )
    breaker_open: _Gauge = instrument(
        "gauge",
        "isthmus.sink.breaker.open",
        "1 while the circuit breaker of the target is open.",
        "1",
    )
