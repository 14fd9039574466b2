"""Entry point: `python -m isthmus.sandbox_s4` / `isthmus-sandbox-s4`."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from isthmus.sandbox_kit.listener import add_listener_arguments, serve, server_tls
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
    add_listener_arguments(parser, default_port=44300)
    parser.add_argument("--db", dest="db_path", type=Path, help="SQLite file for the state")
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
    serve(create_app(sandbox=sandbox), settings, server_tls(settings))


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
