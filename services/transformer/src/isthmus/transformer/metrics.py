"""The transformer's instruments, each declared once; Prometheus adds ``_total`` to counters."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import Counter

from isthmus.telemetry.metrics import InstrumentSet, instrument


@dataclass(frozen=True)
class TransformerMetrics(InstrumentSet):
    """Instruments of the transformer (no-ops until telemetry is set up)."""

    records: Counter = instrument(
        "counter", "isthmus.transformer.records", "Records handled, by flow and outcome."
    )
    flow_reloads: Counter = instrument(
        "counter", "isthmus.transformer.flow_reloads", "Flow folder versions put in service."
    )
    flow_reload_failures: Counter = instrument(
        "counter",
        "isthmus.transformer.flow_reload_failures",
        "Changed flow folders rejected; the previous flows kept running.",
    )
    xref_entries: Counter = instrument(
        "counter", "isthmus.transformer.xref_entries", "Cross references read from xref.ids."
    )
