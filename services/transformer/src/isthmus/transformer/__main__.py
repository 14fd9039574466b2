"""Entry point of ``isthmus-transformer``: settings once, telemetry, composition root, run."""

from __future__ import annotations

import sys

from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.kafka.context_tracer import ContextOnlyTracer
from isthmus.telemetry.secrets import require_real_secrets
from isthmus.telemetry.setup import setup_telemetry
from isthmus.transformer.app import TransformerApp
from isthmus.transformer.settings import SERVICE, TransformerSettings


def main() -> int:
    """Run the transformer until SIGTERM; return its exit code."""
    settings = TransformerSettings()
    telemetry = setup_telemetry(
        service=SERVICE, log_level=settings.log_level, metric_readers=(PrometheusMetricReader(),)
    )
    require_real_secrets(settings, service=SERVICE)
    try:
        # Without an exporter no span would ever leave the process: each record's trace is then
        # carried on (traceparent, log trace ids) without building SDK spans, which is faster.
        spans = None if telemetry.exports_spans else ContextOnlyTracer()
        return TransformerApp(settings=settings, spans=spans).run()
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    sys.exit(main())
