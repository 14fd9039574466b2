"""Every service's entry point in one shape: settings once, telemetry, secrets, run, exit."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn, TypeVar

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from pydantic import BaseModel

from isthmus.telemetry.secrets import require_real_secrets
from isthmus.telemetry.setup import Telemetry, setup_telemetry

S = TypeVar("S", bound=BaseModel)


def run_service(
    service: str,
    settings_type: Callable[[], S],
    run: Callable[[S, Telemetry], int | None],
    *,
    metrics_port: Callable[[S], int | None] | None = None,
) -> NoReturn:
    """Read ``settings_type()`` once, set up telemetry (JSON logs, traces, metrics: Prometheus
    through the service's own probe server, or on ``metrics_port`` when it names one), refuse
    placeholder secrets outside the local profile (exit 78), ``run``, flush telemetry and exit
    with ``run``'s code (None: 0).
    """
    settings = settings_type()
    port = metrics_port(settings) if metrics_port is not None else None
    telemetry = setup_telemetry(
        service=service,
        log_level=str(getattr(settings, "log_level", "INFO")),
        metrics_port=port,
        metric_readers=() if metrics_port is not None else (PrometheusMetricReader(),),
    )
    require_real_secrets(settings, service=service)
    try:
        code = run(settings, telemetry)
    finally:
        telemetry.shutdown()
    sys.exit(code or 0)
