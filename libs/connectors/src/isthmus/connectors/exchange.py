"""One governed, traced HTTP exchange: permit, span, send, classify transport failures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Self

import httpx
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from isthmus.connectors.budget import LimitHint
from isthmus.connectors.errors import ConnectorError, TransportError
from isthmus.connectors.governor import ApiGovernor

TRACER_NAME = "isthmus.connectors"
ErrorMapper = Callable[[httpx.Response], ConnectorError]
TransportErrorFactory = Callable[..., TransportError]
_THROTTLED = 429


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or HTTP date), if present."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    date = response.headers.get("date")
    now = parsedate_to_datetime(date) if date else None
    return max(0.0, (when - now).total_seconds()) if now else None


@contextmanager
def token_span(*, system: str, url: str) -> Iterator[Span]:
    """A CLIENT span around a token request (the token itself never goes into it)."""
    parsed = httpx.URL(url)
    tracer = trace.get_tracer(TRACER_NAME)
    with tracer.start_as_current_span(f"POST {parsed.path}", kind=SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                "http.request.method": "POST",
                "url.template": parsed.path,
                "server.address": parsed.host,
                "isthmus.connector.system": system,
            }
        )
        yield span


class Exchanger:
    """Sends requests through one ``httpx.AsyncClient`` under one credential's governor."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        governor: ApiGovernor | None,
        system: str,
        map_error: ErrorMapper,
        transport_error: TransportErrorFactory = TransportError,
        tracer: trace.Tracer | None = None,
        limit_hint: Callable[[httpx.Response], LimitHint | None] | None = None,
    ) -> None:
        self.client = client
        self.governor = governor
        self.system = system
        self.map_error = map_error
        self._transport_error = transport_error
        self._tracer = tracer or trace.get_tracer(TRACER_NAME)
        self._limit_hint = limit_hint

    async def exchange(
        self, request: httpx.Request, *, template: str, retry_count: int
    ) -> httpx.Response:
        """Send ``request`` once and return the response, whatever its status.

        Args:
            request: the request to send (auth is applied by the client's ``httpx.Auth``).
            template: the URL with identifiers replaced by placeholders, for the span.
            retry_count: how many times this logical call was sent before.

        Raises:
            TransportError: the connection failed or timed out.
        """
        name = f"{request.method} {template}"
        with self._tracer.start_as_current_span(name, kind=SpanKind.CLIENT) as span:
            span.set_attributes(
                {
                    "http.request.method": request.method,
                    "url.template": template,
                    "server.address": request.url.host,
                    "server.port": request.url.port or 443,
                    "http.request.resend_count": retry_count,
                    "isthmus.connector.system": self.system,
                }
            )
            try:
                response = await self._send_governed(request)
            except TransportError as exc:
                span.set_attribute("error.type", type(exc).__name__)
                span.set_status(Status(StatusCode.ERROR))
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 400:  # noqa: PLR2004 - HTTP error statuses
                span.set_attribute("error.type", str(response.status_code))
                span.set_status(Status(StatusCode.ERROR))
            return response

    async def _send_governed(self, request: httpx.Request) -> httpx.Response:
        if self.governor is None:
            return await self._send(request)
        async with self.governor.permit() as permit:
            response = await self._send(request)
            if response.status_code == _THROTTLED:
                hint = self._limit_hint(response) if self._limit_hint else None
                permit.record_throttled(retry_after=retry_after_seconds(response), hint=hint)
            else:
                permit.record_success()
            return response

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.client.send(request)
            await response.aread()
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            message = f"cannot connect: {type(exc).__name__}"
            raise self._transport_error(message, request_sent=False) from exc
        except httpx.TransportError as exc:
            message = f"request failed: {type(exc).__name__}"
            raise self._transport_error(message, request_sent=True) from exc
        return response


class PooledClient:
    """Base of a client that owns one ``httpx.AsyncClient``: an async context manager that
    closes the pool on exit."""

    http: httpx.AsyncClient

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()
