"""Entry point: ``python -m isthmus.ingress`` / ``isthmus-ingress``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn

from isthmus.ingress.app import build_app
from isthmus.ingress.settings import IngressSettings
from isthmus.telemetry.service import run_service
from isthmus.telemetry.setup import Telemetry


def main() -> None:
    """Read the settings once, set up telemetry, serve the ingress with uvicorn."""
    run_service("ingress", IngressSettings, _serve, metrics_port=lambda s: s.metrics_port)


def _serve(settings: IngressSettings, _telemetry: Telemetry) -> None:
    app = build_app(settings, root=Path.cwd())
    tls: dict[str, Any] = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="warning", access_log=False, **tls
    )


if __name__ == "__main__":
    main()
