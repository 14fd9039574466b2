"""Entry point of sap-sink: settings once, telemetry, composition root, run."""

from __future__ import annotations

import sys

from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.sap_sink.app import SERVICE, build
from isthmus.sap_sink.settings import SapSinkSettings
from isthmus.telemetry.secrets import require_real_secrets
from isthmus.telemetry.setup import setup_telemetry


def main() -> None:
    """Run sap-sink until SIGTERM; exit nonzero on a fatal error."""
    settings = SapSinkSettings()
    telemetry = setup_telemetry(
        service=SERVICE, log_level=settings.log_level, metric_readers=(PrometheusMetricReader(),)
    )
    require_real_secrets(settings, service=SERVICE)
    runtime = build(settings)
    runtime.loop.install_signal_handlers()
    try:
        code = runtime.run()
    finally:
        telemetry.shutdown()
    sys.exit(code)


if __name__ == "__main__":
    main()
