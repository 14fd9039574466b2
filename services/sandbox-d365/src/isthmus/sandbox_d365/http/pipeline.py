"""ASGI middleware around every Web API and token request: injected faults."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from isthmus.sandbox_d365.errors import EntraError
from isthmus.sandbox_d365.http.faults import Faults, FaultSpec
from isthmus.sandbox_d365.http.throttling import REQUESTS_CODE
from isthmus.sandbox_d365.identity.entra import entra_error_body
from isthmus.sandbox_kit.faults import drop_connection, lose_answer, respond

ADMIN_PREFIX = "/_sandbox"
API_PREFIX = "/api/data/"
LATENCY_KEY = "fault_latency_ms"
REQUEST_ID_HEADERS = ("x-ms-service-request-id", "req_id")
_DROP_HEADERS = [(b"content-length", b"1000"), (b"content-type", b"application/json")]


def _fault_body(spec: FaultSpec, path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    headers = {"Retry-After": str(spec.retry_after)} if spec.retry_after is not None else {}
    token_path = "/oauth2/" in path
    if spec.kind == "throttle":
        retry = str(spec.retry_after if spec.retry_after is not None else 1)
        headers["Retry-After"] = retry
        if token_path:
            error = EntraError(
                status=429,
                error="temporarily_unavailable",
                aadsts=90055,
                description=spec.message or "The request has been throttled.",
            )
            return 429, entra_error_body(error), headers
        message = (
            spec.message
            or "Number of requests exceeded the limit of 6000 over time window of 300 seconds."
        )
        return 429, {"error": {"code": spec.code or REQUESTS_CODE, "message": message}}, headers
    if spec.kind == "token_expired":
        return (
            401,
            {
                "error": {
                    "code": spec.code or "",
                    "message": spec.message or "The access token has expired.",
                }
            },
            headers,
        )
    if token_path:
        error = EntraError(
            status=spec.status,
            error="temporarily_unavailable",
            aadsts=90033,
            description=spec.message or "A transient error has occurred. Please try again.",
        )
        return spec.status, entra_error_body(error), headers
    message = spec.message or "The service is temporarily unavailable. Please try again later."
    return spec.status, {"error": {"code": spec.code or "", "message": message}}, headers


class FaultMiddleware:
    """Applies Dataverse fault rules (the admin prefix is exempt)."""

    def __init__(self, app: ASGIApp, *, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, answer, drop or lose the answer as the matching rules say."""
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        found = self.faults.match(method=scope["method"], path=path)
        latency, rule = found.latency_ms, found.rule
        if latency and path.startswith(API_PREFIX) and rule is None:
            # Web API latency is server work: it holds a concurrency slot and counts as
            # execution time, so the route sleeps after admission (see dataverse_routes).
            scope.setdefault("state", {})[LATENCY_KEY] = latency
        elif latency:
            await asyncio.sleep(latency / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.kind == "drop":
            await drop_connection(send, headers=_DROP_HEADERS, partial_body=b'{"partial":')
        elif rule.kind == "lost_answer":
            await lose_answer(self.app, scope, receive, send, gateway_answer=_gateway(rule, path))
        else:
            await _answer(rule, path, send)


def _gateway(rule: FaultSpec, path: str) -> Callable[[Send], Awaitable[None]] | None:
    """The front end's error answer for a lost answer, if the rule names its status."""
    if rule.gateway_status is None:
        return None
    spec = rule.model_copy(update={"kind": "status", "status": rule.gateway_status})
    return functools.partial(_answer, spec, path)


async def _answer(spec: FaultSpec, path: str, send: Send) -> None:
    status, body, headers = _fault_body(spec, path)
    pairs = [
        (b"content-type", b"application/json; odata.metadata=minimal"),
        (b"odata-version", b"4.0"),
    ]
    pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if status == 401:  # noqa: PLR2004
        pairs.append((b"www-authenticate", b"Bearer error=invalid_token"))
    await respond(send, status, pairs, json.dumps(body).encode())
