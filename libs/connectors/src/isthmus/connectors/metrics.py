"""Metric names of the connectors, declared once, and the governor's observable state."""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Counter, Meter, Observation

if TYPE_CHECKING:
    from isthmus.connectors.governor import ApiGovernor

METER_NAME = "isthmus.connectors"


class MetricName(StrEnum):
    """Every metric the connectors export; attribute ``credential`` names the credential."""

    LIMIT = "isthmus.connector.concurrency.limit"
    IN_FLIGHT = "isthmus.connector.requests.in_flight"
    THROTTLED = "isthmus.connector.requests.throttled"


class GovernorMetrics:
    """Observes every live governor; instruments are created on first use, not at import."""

    def __init__(self, meter: Meter | None = None) -> None:
        self._governors: weakref.WeakSet[ApiGovernor] = weakref.WeakSet()
        self._throttled: Counter | None = None
        self._meter = meter

    def watch(self, governor: ApiGovernor) -> None:
        """Include ``governor`` in the observable gauges."""
        self._ensure_instruments()
        self._governors.add(governor)

    def throttled(self, credential: str) -> None:
        """Count one 429 for ``credential``."""
        self._ensure_instruments()
        assert self._throttled is not None  # noqa: S101 - set by _ensure_instruments
        self._throttled.add(1, {"credential": credential})

    def _ensure_instruments(self) -> None:
        if self._throttled is not None:
            return
        meter = self._meter or metrics.get_meter(METER_NAME)
        self._throttled = meter.create_counter(
            MetricName.THROTTLED.value, unit="{request}", description="429 answers received."
        )
        meter.create_observable_gauge(
            MetricName.LIMIT.value,
            callbacks=[self._observe_limit],
            unit="{request}",
            description="Requests the governor currently allows in flight.",
        )
        meter.create_observable_gauge(
            MetricName.IN_FLIGHT.value,
            callbacks=[self._observe_in_flight],
            unit="{request}",
            description="Requests in flight now.",
        )

    def _observe_limit(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(g.limit.current, {"credential": g.credential}) for g in self._governors]

    def _observe_in_flight(self, _options: CallbackOptions) -> Iterable[Observation]:
        return [Observation(g.in_flight, {"credential": g.credential}) for g in self._governors]


GOVERNOR_METRICS = GovernorMetrics()
