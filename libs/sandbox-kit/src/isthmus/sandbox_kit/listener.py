"""Where an emulator listens (host, port, TLS) and serving an ASGI app there with uvicorn."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from pydantic_settings import BaseSettings
from starlette.types import ASGIApp

from isthmus.devenv.tls import ensure_local_tls


class ListenerSettings(BaseSettings):
    """The listener part of a sandbox's settings; a sandbox sets its own prefix and port."""

    host: str = "127.0.0.1"
    port: int
    tls: bool = True
    tls_dir: Path = Path(".local/tls")
    tls_cert: Path | None = None
    tls_key: Path | None = None


@dataclass(frozen=True)
class ServerTls:
    """The certificate and key to serve with, and the CA that signed them when made locally."""

    cert: Path
    key: Path
    local_ca: Path | None


def server_tls(settings: ListenerSettings) -> ServerTls | None:
    """The configured certificate, else the local CA's one in ``tls_dir``; None for plain HTTP."""
    if not settings.tls:
        return None
    if settings.tls_cert is not None and settings.tls_key is not None:
        return ServerTls(cert=settings.tls_cert, key=settings.tls_key, local_ca=None)
    local = ensure_local_tls(settings.tls_dir)
    return ServerTls(cert=local.server_cert, key=local.server_key, local_ca=local.ca_cert)


def add_listener_arguments(
    parser: argparse.ArgumentParser,
    *,
    default_port: int,
    plain_http_flag: str = "--no-tls",
    plain_http_help: str = "serve plain HTTP",
) -> None:
    """``--host``, ``--port``, ``--tls-dir`` and the sandbox's flag for plain HTTP."""
    parser.add_argument("--host", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help=f"port (default {default_port})")
    parser.add_argument(
        "--tls-dir", type=Path, help="folder of the local CA and server certificate"
    )
    parser.add_argument(
        plain_http_flag, dest="tls", action="store_false", default=None, help=plain_http_help
    )


def listener_overrides(arguments: argparse.Namespace) -> dict[str, Any]:
    """The listener settings given on the command line."""
    given = {
        "host": arguments.host,
        "port": arguments.port,
        "tls_dir": arguments.tls_dir,
        "tls": arguments.tls,
    }
    return {k: v for k, v in given.items() if v is not None}


def serve(app: ASGIApp, settings: ListenerSettings, tls: ServerTls | None) -> None:
    """Serve ``app`` on the listener until SIGTERM/SIGINT (HTTPS with ``tls``)."""
    options: dict[str, Any] = {}
    if tls is not None:
        options = {"ssl_certfile": str(tls.cert), "ssl_keyfile": str(tls.key)}
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        **options,
    )
