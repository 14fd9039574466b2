"""Entry point: ``python -m isthmus.ingress`` / ``isthmus-ingress``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import uvicorn

from isthmus.ingress.app import build_app
from isthmus.ingress.settings import IngressSettings
from isthmus.telemetry.secrets import require_real_secrets
from isthmus.telemetry.setup import setup_telemetry


def main() -> None:
    """Read the settings once, set up telemetry, serve the ingress with uvicorn."""
    settings = IngressSettings()
    telemetry = setup_telemetry(
        service="ingress", log_level=settings.log_level, metrics_port=settings.metrics_port
    )
    require_real_secrets(settings, service="ingress")
    app = build_app(settings, root=Path.cwd())
    tls: dict[str, Any] = {}
    if settings.tls_cert is not None and settings.tls_key is not None:
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="warning",
            access_log=False,
            **tls,
        )
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
