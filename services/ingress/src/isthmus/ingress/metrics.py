"""The ingress's metric names, declared once, and its instruments."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from opentelemetry import metrics
from opentelemetry.metrics import Counter, Histogram, Meter

from isthmus.telemetry.metrics import METER_NAME, MetricName


class IngressMetric(StrEnum):
    """Metrics of the ingress beside the shared ``isthmus.messages.produced``."""

    REQUESTS = "isthmus.ingress.requests"
    REQUEST_DURATION = "isthmus.ingress.request.duration"
    DUPLICATES = "isthmus.ingress.duplicates"
    ECHOES = "isthmus.ingress.echoes"
    HYDRATIONS = "isthmus.ingress.hydrations"


@dataclass(frozen=True)
class IngressMetrics:
    """Instruments (no-ops until telemetry is set up in ``__main__``)."""

    requests: Counter
    duration: Histogram
    produced: Counter
    duplicates: Counter
    echoes: Counter
    hydrations: Counter

    @classmethod
    def create(cls, meter: Meter | None = None) -> IngressMetrics:
        """Build the instruments from ``meter`` (default: the process's ``isthmus`` meter)."""
        m = meter or metrics.get_meter(METER_NAME)
        return cls(
            requests=m.create_counter(
                IngressMetric.REQUESTS.value, description="HTTP requests by route and status."
            ),
            duration=m.create_histogram(
                IngressMetric.REQUEST_DURATION.value, unit="s", description="Time to answer."
            ),
            produced=m.create_counter(
                MetricName.PRODUCED.value, unit="{message}", description="Events produced."
            ),
            duplicates=m.create_counter(
                IngressMetric.DUPLICATES.value, description="Redelivered events dropped."
            ),
            echoes=m.create_counter(
                IngressMetric.ECHOES.value, description="Echoes of our own writes dropped."
            ),
            hydrations=m.create_counter(
                IngressMetric.HYDRATIONS.value, description="Source reads for hydration."
            ),
        )
