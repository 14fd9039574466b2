"""Entry point of ``isthmus-transformer``: settings once, telemetry, composition root, run."""

from __future__ import annotations

import sys

from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.kafka.context_tracer import ContextOnlyTracer
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
        # No span processor is configured, so no span would ever be exported: each record's
        # trace is carried on (traceparent, log trace ids) without building SDK spans.
        return TransformerApp(settings=settings, spans=ContextOnlyTracer()).run()
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    sys.exit(main())
