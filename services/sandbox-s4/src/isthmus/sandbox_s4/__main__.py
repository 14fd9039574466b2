"""Entry point: `python -m isthmus.sandbox_s4` / `isthmus-sandbox-s4`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import uvicorn

from isthmus.devenv.tls import ensure_local_tls
from isthmus.sandbox_s4.app import Sandbox, build_sandbox, create_app
from isthmus.sandbox_s4.settings import SandboxS4Settings


def _arguments(argv: list[str] | None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="isthmus-sandbox-s4", description="Local SAP S/4HANA emulator"
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "seed", "reset"],
        help="serve (default); seed: load the seed catalogue and exit; reset: wipe, seed, exit",
    )
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default 44300)")
    parser.add_argument("--db", dest="db_path", type=Path, help="SQLite file for the state")
    parser.add_argument(
        "--tls-dir", type=Path, help="folder of the local CA and server certificate"
    )
    parser.add_argument(
        "--no-tls", dest="tls", action="store_false", default=None, help="serve plain HTTP"
    )
    parser.add_argument("--page-size", type=int, help="server-driven page size for collections")
    parser.add_argument(
        "--no-seed",
        dest="seed_on_start",
        action="store_false",
        default=None,
        help="do not load the seed catalogue into an empty database",
    )
    return {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}


def _serve(settings: SandboxS4Settings, sandbox: Sandbox) -> None:
    if settings.seed_on_start and not sandbox.store.rows(
        service="API_PRODUCT_SRV", entity_set="A_Product"
    ):
        sandbox.seed()
    ssl: dict[str, Any] = {}
    if settings.tls:
        cert, key = settings.cert_file, settings.key_file
        if cert is None or key is None:
            tls = ensure_local_tls(settings.tls_dir)
            cert, key = tls.server_cert, tls.server_key
        ssl = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    uvicorn.run(
        create_app(sandbox=sandbox),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        **ssl,
    )


def main(argv: list[str] | None = None) -> None:
    """Parse settings, build the sandbox, then serve it (until SIGTERM/SIGINT) or seed it."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    arguments = _arguments(argv)
    command = arguments.pop("command")
    settings = SandboxS4Settings(**arguments)
    sandbox = build_sandbox(settings=settings)
    if command == "serve":
        _serve(settings, sandbox)
    elif command == "seed":
        sandbox.seed()
    else:
        sandbox.reset(seed=True)


if __name__ == "__main__":
    main()
