"""Metric names, declared once; instrument sets declared field by field; the loop's instruments."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Literal, Self

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter, _Gauge

METER_NAME = "isthmus"
InstrumentKind = Literal["counter", "up_down_counter", "histogram", "gauge"]


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
class Instrument:
    """How to build one instrument: its kind, exported name, unit and description."""

    kind: InstrumentKind
    name: str
    description: str
    unit: str = ""

    def build(self, meter: Meter) -> Any:
        """The instrument on ``meter``."""
        create = getattr(meter, f"create_{self.kind}")
        return create(self.name, unit=self.unit, description=self.description)


def instrument(kind: InstrumentKind, name: str, description: str, unit: str = "") -> Any:
    """A field of an :class:`InstrumentSet`, built by ``create`` from this declaration."""
    spec = Instrument(kind=kind, name=str(name), description=description, unit=unit)
    return dataclasses.field(metadata={"instrument": spec})


class InstrumentSet:
    """Base of a frozen dataclass whose fields are all declared with :func:`instrument`.

    One declaration per metric (name, unit, description) next to the field the code records
    into; ``create`` builds them all, no-ops until telemetry is set up.
    """

    meter_name: ClassVar[str] = METER_NAME

    @classmethod
    def create(cls, meter: Meter | None = None) -> Self:
        """Build every instrument from ``meter`` (default: the process's ``meter_name`` meter)."""
        chosen = meter or metrics.get_meter(cls.meter_name)
        declared = dataclasses.fields(cls)  # type: ignore[arg-type]
        return cls(**{f.name: f.metadata["instrument"].build(chosen) for f in declared})


@dataclass(frozen=True)
class RuntimeMetrics(InstrumentSet):
    """The instruments the processing loop records into (no-ops until telemetry is set up)."""

    consumed: Counter = instrument(
        "counter", MetricName.CONSUMED, "Records read from input and retry topics.", "{message}"
    )
    produced: Counter = instrument(
        "counter", MetricName.PRODUCED, "Output records produced by handlers.", "{message}"
    )
    failed: Counter = instrument(
        "counter", MetricName.FAILED, "Records whose processing raised, by class.", "{message}"
    )
    retried: Counter = instrument(
        "counter", MetricName.RETRIED, "Records sent to a retry topic.", "{message}"
    )
    dead_lettered: Counter = instrument(
        "counter", MetricName.DEAD_LETTERED, "Records sent to a DLQ.", "{message}"
    )
    parked: Counter = instrument(
        "counter",
        MetricName.PARKED,
        "Records parked behind an earlier one of its key.",
        "{message}",
    )
    replayed: Counter = instrument(
        "counter", MetricName.REPLAYED, "DLQ records moved back to their source.", "{message}"
    )
    lag: _Gauge = instrument("gauge", MetricName.LAG, "Records behind the end.", "{message}")
    handler_latency: Histogram = instrument(
        "histogram", MetricName.HANDLER_LATENCY, "Handler call duration.", "s"
    )
