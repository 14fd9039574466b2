"""Entry point: ``python -m isthmus.sandbox_d365`` / ``isthmus-sandbox-d365``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn

from isthmus.devenv.tls import ensure_local_tls
from isthmus.sandbox_d365.app import build_sandbox, create_app
from isthmus.sandbox_d365.business.seed import seed
from isthmus.sandbox_d365.identity.tokens import object_id_of
from isthmus.sandbox_d365.settings import SandboxSettings
from isthmus.telemetry.logs import configure_logging


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="isthmus-sandbox-d365", description=__doc__)
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 8443)")
    parser.add_argument("--db", type=Path, help="SQLite file of the organisation")
    parser.add_argument(
        "--tls-dir", type=Path, help="folder of the local CA and server certificate"
    )
    parser.add_argument(
        "--plain-http", action="store_true", help="serve plain HTTP (MSAL refuses it)"
    )
    parser.add_argument("--no-seed", action="store_true", help="start with an empty organisation")
    parser.add_argument("command", nargs="?", choices=["serve", "seed"], default="serve")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox (or only seed its database with ``seed``)."""
    configure_logging(service="sandbox-d365")
    args = _arguments(argv)
    overrides: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "db_path": args.db,
        "tls_dir": args.tls_dir,
    }
    if args.plain_http:
        overrides["tls"] = False
    if args.no_seed:
        overrides["seed"] = False
    settings = SandboxSettings(**{k: v for k, v in overrides.items() if v is not None})
    if args.command == "seed":
        seed(build_sandbox(settings).records, user_id=object_id_of(settings.client_id.lower()))
        return
    tls_options: dict[str, Any] = {}
    ca_file = None
    if settings.tls:
        cert, key = settings.tls_cert, settings.tls_key
        if cert is None or key is None:
            local = ensure_local_tls(settings.tls_dir)
            cert, key, ca_file = local.server_cert, local.server_key, local.ca_cert
        tls_options = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    app = create_app(settings, ca_file=ca_file)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        **tls_options,
    )


if __name__ == "__main__":
    main()
