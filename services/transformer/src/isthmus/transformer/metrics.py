"""Metric names of the transformer, declared once; Prometheus adds ``_total`` to counters."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry.metrics import Counter

from isthmus.telemetry.metrics import InstrumentSet, instrument


class TransformerMetric(StrEnum):
    """Every metric the transformer adds to the runtime's."""

    RECORDS = "isthmus.transformer.records"
    FLOW_RELOADS = "isthmus.transformer.flow_reloads"
    FLOW_RELOAD_FAILURES = "isthmus.transformer.flow_reload_failures"
    XREF_ENTRIES = "isthmus.transformer.xref_entries"


@dataclass(frozen=True)
class TransformerMetrics(InstrumentSet):
    """Instruments of the transformer (no-ops until telemetry is set up)."""

    records: Counter = instrument(
        "counter", TransformerMetric.RECORDS, "Records handled, by flow and outcome."
    )
    flow_reloads: Counter = instrument(
        "counter", TransformerMetric.FLOW_RELOADS, "Flow folder versions put in service."
    )
    flow_reload_failures: Counter = instrument(
        "counter",
        TransformerMetric.FLOW_RELOAD_FAILURES,
        "Changed flow folders rejected; the previous flows kept running.",
    )
    xref_entries: Counter = instrument(
        "counter", TransformerMetric.XREF_ENTRIES, "Cross references read from xref.ids."
    )
