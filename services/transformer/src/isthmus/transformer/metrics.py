"""Metric names of the transformer, declared once; Prometheus adds ``_total`` to counters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Meter

from isthmus.telemetry.metrics import METER_NAME


class TransformerMetric(StrEnum):
    """Every metric the transformer adds to the runtime's."""

    RECORDS = "isthmus.transformer.records"
    FLOW_RELOADS = "isthmus.transformer.flow_reloads"
    FLOW_RELOAD_FAILURES = "isthmus.transformer.flow_reload_failures"
    XREF_ENTRIES = "isthmus.transformer.xref_entries"


@dataclass(frozen=True)
class TransformerMetrics:
    """Instruments of the transformer (no-ops until telemetry is set up)."""

    records: Counter
    flow_reloads: Counter
    flow_reload_failures: Counter
    xref_entries: Counter

    @classmethod
    def create(cls, meter: Meter | None = None) -> TransformerMetrics:
        """Create the instruments on ``meter`` (default: the global ``isthmus`` meter)."""
        meter = meter or metrics.get_meter(METER_NAME)
        return cls(
            records=meter.create_counter(
                TransformerMetric.RECORDS, description="Records handled, by flow and outcome."
            ),
            flow_reloads=meter.create_counter(
                TransformerMetric.FLOW_RELOADS, description="Flow folder versions put in service."
            ),
            flow_reload_failures=meter.create_counter(
                TransformerMetric.FLOW_RELOAD_FAILURES,
                description="Changed flow folders rejected; the previous flows kept running.",
            ),
            xref_entries=meter.create_counter(
                TransformerMetric.XREF_ENTRIES, description="Cross references read from xref.ids."
            ),
        )
