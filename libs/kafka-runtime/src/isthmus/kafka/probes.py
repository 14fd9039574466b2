"""Every consuming service's probe and metrics endpoint: ``/healthz``, ``/readyz``, ``/metrics``.

``/healthz`` fails once the loop is stuck (liveness: restart me); ``/readyz`` also fails while
the process starts, is not a consumer group member, or no longer polls (readiness).
``loop_probes`` answers both from a loop's ``LoopHealth``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from isthmus.kafka.liveness import LoopHealth


@dataclass(frozen=True)
class Probe:
    """One probe's answer: whether it passes and why (the response body)."""

    ok: bool
    reason: str


def loop_probes(
    health: LoopHealth, *, started: Callable[[], bool] = lambda: True
) -> tuple[Callable[[], Probe], Callable[[], Probe]]:
    """``(alive, ready)`` of a consume loop: alive unless stuck; ready once ``started`` and
    while the loop is a group member that polls."""

    def alive() -> Probe:
        return Probe(ok=health.alive, reason="ok" if health.alive else health.reason())

    def ready() -> Probe:
        if not started():
            return Probe(ok=False, reason="starting")
        return Probe(ok=health.ready, reason=health.reason())

    return alive, ready


class ProbeServer:
    """A small threaded HTTP server; ``alive`` and ``ready`` decide what the probes answer."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        alive: Callable[[], Probe],
        ready: Callable[[], Probe],
    ) -> None:
        self._alive = alive
        self._ready = ready
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        alive, ready = self._alive, self._ready

        class _Probe(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path in ("/healthz", "/readyz"):
                    probe = alive() if self.path == "/healthz" else ready()
                    body = probe.reason.encode()
                    self._send(200 if probe.ok else 503, body, "text/plain")
                elif self.path == "/metrics":
                    self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return  # probes every few seconds would drown the JSON logs

        return _Probe
