"""Entry point of d365-sink: settings once, telemetry, composition root, run."""

from __future__ import annotations

import sys

from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.d365_sink.app import SERVICE, build
from isthmus.d365_sink.settings import D365SinkSettings
from isthmus.telemetry.secrets import require_real_secrets
from isthmus.telemetry.setup import setup_telemetry


def main() -> None:
    """Run d365-sink until SIGTERM; exit nonzero on a fatal error."""
    settings = D365SinkSettings()
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
