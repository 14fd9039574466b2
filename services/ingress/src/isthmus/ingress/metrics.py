"""The ingress's instruments, each metric's name, unit and description declared once."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import Counter, Histogram

from isthmus.telemetry.metrics import InstrumentSet, MetricName, instrument


@dataclass(frozen=True)
class IngressMetrics(InstrumentSet):
    """Instruments (no-ops until telemetry is set up in ``__main__``)."""

    requests: Counter = instrument(
        "counter", "isthmus.ingress.requests", "HTTP requests by route and status."
    )
    duration: Histogram = instrument(
        "histogram", "isthmus.ingress.request.duration", "Time to answer.", "s"
    )
    produced: Counter = instrument("counter", MetricName.PRODUCED, "Events produced.", "{message}")
    duplicates: Counter = instrument(
        "counter", "isthmus.ingress.duplicates", "Redelivered events dropped."
    )
    echoes: Counter = instrument(
        "counter", "isthmus.ingress.echoes", "Echoes of our own writes dropped."
    )
    hydrations: Counter = instrument(
        "counter", "isthmus.ingress.hydrations", "Source reads for hydration."
    )
