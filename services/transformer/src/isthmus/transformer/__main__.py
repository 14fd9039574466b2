"""Entry point of ``isthmus-transformer``: settings once, telemetry, composition root, run."""

from __future__ import annotations

from isthmus.kafka.context_tracer import ContextOnlyTracer
from isthmus.telemetry.service import run_service
from isthmus.telemetry.setup import Telemetry
from isthmus.transformer.app import TransformerApp
from isthmus.transformer.settings import SERVICE, TransformerSettings


def main() -> None:
    """Run the transformer until SIGTERM; exit with its code."""
    run_service(SERVICE, TransformerSettings, _run)


def _run(settings: TransformerSettings, telemetry: Telemetry) -> int:
    # Without an exporter no span would ever leave the process: each record's trace is then
    # carried on (traceparent, log trace ids) without building SDK spans, which is faster.
    spans = None if telemetry.exports_spans else ContextOnlyTracer()
    return TransformerApp(settings=settings, spans=spans).run()


if __name__ == "__main__":
    main()
