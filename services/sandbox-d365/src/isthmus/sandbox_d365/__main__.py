"""Entry point: ``python -m isthmus.sandbox_d365`` / ``isthmus-sandbox-d365``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from isthmus.sandbox_d365.app import build_sandbox, create_app
from isthmus.sandbox_d365.business.seed import seed
from isthmus.sandbox_d365.identity.tokens import object_id_of
from isthmus.sandbox_d365.settings import SandboxSettings
from isthmus.sandbox_kit.listener import (
    add_listener_arguments,
    listener_overrides,
    serve,
    server_tls,
)
from isthmus.telemetry.logs import configure_logging


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="isthmus-sandbox-d365", description=__doc__)
    add_listener_arguments(
        parser,
        default_port=8443,
        plain_http_flag="--plain-http",
        plain_http_help="serve plain HTTP (MSAL refuses it)",
    )
    parser.add_argument("--db", type=Path, help="SQLite file of the organisation")
    parser.add_argument("--no-seed", action="store_true", help="start with an empty organisation")
    parser.add_argument("command", nargs="?", choices=["serve", "seed"], default="serve")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox (or only seed its database with ``seed``)."""
    configure_logging(service="sandbox-d365")
    args = _arguments(argv)
    overrides: dict[str, Any] = {**listener_overrides(args), "db_path": args.db}
    if args.no_seed:
        overrides["seed"] = False
    settings = SandboxSettings(**{k: v for k, v in overrides.items() if v is not None})
    if args.command == "seed":
        seed(build_sandbox(settings).records, user_id=object_id_of(settings.client_id.lower()))
        return
    tls = server_tls(settings)
    serve(create_app(settings, ca_file=None if tls is None else tls.local_ca), settings, tls)


if __name__ == "__main__":
    main()
