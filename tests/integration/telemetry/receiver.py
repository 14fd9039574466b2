"""A real OTLP/HTTP trace receiver on loopback: ``POST /v1/traces`` protobuf, decoded and kept."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from isthmus.devenv.ports import free_port


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as a collector sees it, with its resource's attributes."""

    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    resource: dict[str, str]
    attributes: dict[str, str]


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, str]:
    """Attribute values as text, whichever of the ``AnyValue`` fields holds them."""
    values: dict[str, str] = {}
    for pair in pairs:
        field = pair.value.WhichOneof("value") or "string_value"
        values[pair.key] = str(getattr(pair.value, field))
    return values


def decode(body: bytes) -> list[ReceivedSpan]:
    """Every span of an ``ExportTraceServiceRequest`` body."""
    request = ExportTraceServiceRequest.FromString(body)
    return [
        ReceivedSpan(
            name=span.name,
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            kind=span.kind,
            resource=_attributes(resource_spans.resource.attributes),
            attributes=_attributes(span.attributes),
        )
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


class OtlpReceiver:
    """Accepts OTLP/HTTP trace exports on ``127.0.0.1`` and keeps the decoded spans."""

    def __init__(self) -> None:
        self.port = free_port()
        self._spans: list[ReceivedSpan] = []
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        """The base URL for ``OTEL_EXPORTER_OTLP_ENDPOINT``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def wait_for(
        self, *, trace_id: str, kind: int | None = None, timeout_s: float = 30
    ) -> list[ReceivedSpan]:
        """The spans of ``trace_id`` received once one (of ``kind``, if given) is among them.

        Spans arrive in batches as they end, so a trace's inner spans can come first; after
        ``timeout_s`` whatever arrived is returned.
        """
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while True:
                found = [s for s in self._spans if s.trace_id == trace_id]
                remaining = deadline - time.monotonic()
                if any(kind in {None, s.kind} for s in found) or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def _keep(self, spans: list[ReceivedSpan]) -> None:
        with self._changed:
            self._spans.extend(spans)
            self._changed.notify_all()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                receiver._keep(decode(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the test asserts on spans, not on access lines."""

        return Handler
