"""The ingress's metric names, declared once, and its instruments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry.metrics import Counter, Histogram

from isthmus.telemetry.metrics import InstrumentSet, MetricName, instrument


class IngressMetric(StrEnum):
    """Metrics of the ingress beside the shared ``isthmus.messages.produced``."""

    REQUESTS = "isthmus.ingress.requests"
    REQUEST_DURATION = "isthmus.ingress.request.duration"
    DUPLICATES = "isthmus.ingress.duplicates"
    ECHOES = "isthmus.ingress.echoes"
    HYDRATIONS = "isthmus.ingress.hydrations"


@dataclass(frozen=True)
class IngressMetrics(InstrumentSet):
    """Instruments (no-ops until telemetry is set up in ``__main__``)."""

    requests: Counter = instrument(
        "counter", IngressMetric.REQUESTS, "HTTP requests by route and status."
    )
    duration: Histogram = instrument(
        "histogram", IngressMetric.REQUEST_DURATION, "Time to answer.", "s"
    )
    produced: Counter = instrument("counter", MetricName.PRODUCED, "Events produced.", "{message}")
    duplicates: Counter = instrument(
        "counter", IngressMetric.DUPLICATES, "Redelivered events dropped."
    )
    echoes: Counter = instrument(
        "counter", IngressMetric.ECHOES, "Echoes of our own writes dropped."
    )
    hydrations: Counter = instrument(
        "counter", IngressMetric.HYDRATIONS, "Source reads for hydration."
    )
