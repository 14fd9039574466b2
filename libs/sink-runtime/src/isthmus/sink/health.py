"""The sink's HTTP endpoints: ``/healthz`` (alive), ``/readyz`` (consuming), ``/metrics``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

_STALE_S = 300.0


@dataclass
class HealthState:
    """What the loop reports: a heartbeat per iteration and whether it can take work."""

    heartbeat: float = field(default_factory=time.monotonic)
    started: bool = False
    paused_reason: str | None = None

    def beat(self) -> None:
        """The loop finished one iteration."""
        self.heartbeat = time.monotonic()

    @property
    def alive(self) -> bool:
        """False when the loop has not come round for five minutes (stuck)."""
        return time.monotonic() - self.heartbeat < _STALE_S

    @property
    def ready(self) -> bool:
        """True once subscribed and while not paused by a failing target or credential."""
        return self.started and self.alive and self.paused_reason is None


class HealthServer:
    """A small threaded HTTP server; binds loopback unless told otherwise."""

    def __init__(self, *, state: HealthState, host: str, port: int) -> None:
        handler = _handler(state)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()


def _handler(state: HealthState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                ok = state.alive
                self._send(200 if ok else 503, b"ok" if ok else b"stuck", "text/plain")
            elif self.path == "/readyz":
                ok = state.ready
                reason = (state.paused_reason or "starting").encode()
                self._send(200 if ok else 503, b"ready" if ok else reason, "text/plain")
            else:
                self._send(404, b"not found", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler
