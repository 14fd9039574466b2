"""The governor's state as OpenTelemetry metrics: limit, in flight, throttled count."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.metrics import GovernorMetrics, MetricName

pytestmark = pytest.mark.unit


def test_governor_state_is_exported() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    exported = GovernorMetrics(provider.get_meter("test"))
    governor = ApiGovernor(credential="app-1", limits=BudgetLimits(max_concurrency=12, headroom=1))
    exported.watch(governor)
    exported.throttled("app-1")
    data = reader.get_metrics_data()
    assert data is not None
    points = {
        metric.name: [
            (getattr(p, "value", None), dict(p.attributes or {})) for p in metric.data.data_points
        ]
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for metric in sm.metrics
    }
    assert points[MetricName.LIMIT.value] == [(12, {"credential": "app-1"})]
    assert points[MetricName.IN_FLIGHT.value] == [(0, {"credential": "app-1"})]
    assert points[MetricName.THROTTLED.value] == [(1, {"credential": "app-1"})]
    provider.shutdown()
