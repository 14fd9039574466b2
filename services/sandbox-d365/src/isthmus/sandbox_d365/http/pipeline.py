"""ASGI middleware around every request: request id, call log, injected faults."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.sandbox_d365.errors import EntraError
from isthmus.sandbox_d365.http.calllog import Call, CallLog
from isthmus.sandbox_d365.http.faults import FaultRule, Faults
from isthmus.sandbox_d365.http.throttling import REQUESTS_CODE
from isthmus.sandbox_d365.identity.entra import entra_error_body

ADMIN_PREFIX = "/_sandbox"
API_PREFIX = "/api/data/"
LATENCY_KEY = "fault_latency_ms"
UNAUTHORIZED_HEADER = "WWW-Authenticate"


# A header value uvicorn refuses: both its httptools and h11 protocols check values before they
# write a byte, and close the connection when the app fails after starting its response.
_UNSENDABLE = (b"x-sandbox-lost-answer", b"\r\n")


class FaultInjectedDropError(ConnectionError):
    """Raised after a partial response to make the server cut the connection."""


def _fault_body(rule: FaultRule, path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    spec = rule.spec
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


class SandboxMiddleware:
    """Assigns a request id, applies fault rules, and records the call."""

    def __init__(self, app: ASGIApp, *, faults: Faults, calls: CallLog) -> None:
        self.app = app
        self.faults = faults
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        status_box = [0]
        lost: dict[str, int] = {}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-ms-service-request-id", request_id.encode()))
                headers.append((b"req_id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self._dispatch(scope, receive, tracking_send, lost)
        except FaultInjectedDropError:
            status_box[0] = 0  # the call log shows dropped connections as status 0
            raise
        finally:
            self.calls.add(
                Call(
                    request_id=request_id,
                    time=dt.datetime.now(dt.UTC).isoformat(),
                    method=scope["method"],
                    path=path,
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=status_box[0],
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    fault="lost_answer" if lost else None,
                    app_status=lost.get("app_status"),
                )
            )

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, lost: dict[str, int]
    ) -> None:
        path: str = scope["path"]
        latency, rule = self.faults.match(scope["method"], path)
        if latency and path.startswith(API_PREFIX) and rule is None:
            # Web API latency is server work: it holds a concurrency slot and counts as
            # execution time, so the route sleeps after admission (see dataverse_routes).
            scope.setdefault("state", {})[LATENCY_KEY] = latency
        elif latency:
            await asyncio.sleep(latency / 1000)
        if rule is None:
            await self.app(scope, receive, send)
        elif rule.spec.kind == "drop":
            await _drop(send)
        elif rule.spec.kind == "lost_answer":
            await self._lose_answer(scope, receive, send, rule=rule, lost=lost)
        else:
            await self._answer(rule, path, send)

    async def _lose_answer(
        self, scope: Scope, receive: Receive, send: Send, *, rule: FaultRule, lost: dict[str, int]
    ) -> None:
        """Let Dataverse process and commit the request, then lose its answer.

        The application's answer is discarded; with ``gateway_status`` the caller gets that
        status with a Dataverse error body, otherwise the connection closes before one byte of
        the answer was sent.
        """

        async def discard(message: Message) -> None:
            if message["type"] == "http.response.start":
                lost["app_status"] = message["status"]

        lost["app_status"] = 0
        await self.app(scope, receive, discard)
        if rule.spec.gateway_status is not None:
            spec = rule.spec.model_copy(
                update={"kind": "status", "status": rule.spec.gateway_status}
            )
            await self._answer(FaultRule(spec), scope["path"], send)
            return
        try:
            await send({"type": "http.response.start", "status": 504, "headers": [_UNSENDABLE]})
        finally:
            raise FaultInjectedDropError("answer lost after commit by fault injection")

    async def _answer(self, rule: FaultRule, path: str, send: Send) -> None:
        status, body, headers = _fault_body(rule, path)
        raw = json.dumps(body).encode()
        pairs = [
            (b"content-type", b"application/json; odata.metadata=minimal"),
            (b"odata-version", b"4.0"),
            (b"content-length", str(len(raw)).encode()),
        ]
        pairs += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        if status == 401:  # noqa: PLR2004
            pairs.append((b"www-authenticate", b"Bearer error=invalid_token"))
        await send({"type": "http.response.start", "status": status, "headers": pairs})
        await send({"type": "http.response.body", "body": raw})


async def _drop(send: Send) -> None:
    """Start a response, then fail: the server closes the connection mid-body."""
    headers = [(b"content-length", b"1000"), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"partial":', "more_body": True})
    raise FaultInjectedDropError("connection dropped by fault injection")
