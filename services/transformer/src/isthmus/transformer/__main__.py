"""Entry point of ``isthmus-transformer``: settings once, telemetry, composition root, run."""

from __future__ import annotations

import sys

from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.telemetry.setup import setup_telemetry
from isthmus.transformer.app import TransformerApp
from isthmus.transformer.settings import SERVICE, TransformerSettings


def main() -> int:
    """Run the transformer until SIGTERM; return its exit code."""
    settings = TransformerSettings()
    telemetry = setup_telemetry(
        service=SERVICE, log_level=settings.log_level, metric_readers=(PrometheusMetricReader(),)
    )
    try:
        return TransformerApp(settings=settings).run()
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    sys.exit(main())
