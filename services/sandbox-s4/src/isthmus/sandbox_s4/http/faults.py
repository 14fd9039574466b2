"""Fault injection per endpoint pattern, and the call log, as one ASGI middleware."""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import random
import uuid
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.sandbox_s4.store import Store

_LOGGED_BODY_BYTES = 65536
FaultKind = Literal[
    "latency", "error", "throttle", "drop", "lost_answer", "csrf_expiry", "token_expiry"
]
# A header value uvicorn refuses (both its httptools and h11 protocols check values before they
# write a byte, and close the connection when the app fails after starting its response).
_UNSENDABLE = (b"x-sandbox-lost-answer", b"\r\n")


class FaultRule(BaseModel):
    """One rule: which requests it hits and what happens to them."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    kind: FaultKind
    path: str = Field(default="*", description="fnmatch pattern on the URL path")
    method: str | None = None
    status: int = 503
    latency_ms: int = 0
    retry_after_s: int = 1
    gateway_status: int | None = Field(
        default=None,
        ge=500,
        le=599,
        description="lost_answer: the gateway's answer (504, 500); none closes the connection",
    )
    rate: float = Field(default=1.0, ge=0.0, le=1.0, description="share of matching requests hit")
    body_contains: str | None = Field(
        default=None, description="only requests whose body contains this text"
    )
    count: int | None = Field(default=None, description="hit at most this many requests")
    hits: int = 0


class FaultInjector:
    """Holds the active rules; decides per request which rule fires."""

    def __init__(self, *, seed: int = 0) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random(seed)  # noqa: S311 - test fault sampling, not security

    def add(self, rule: FaultRule) -> FaultRule:
        """Activate a rule."""
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        """Deactivate one rule; whether it existed."""
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        """Deactivate every rule."""
        self.rules.clear()

    def wants_body(self, *, method: str, path: str) -> bool:
        """Whether a rule for this request looks into its body (which must then be read first)."""
        return any(r.body_contains and _applies(r, method, path) for r in self.rules)

    def pick(self, *, method: str, path: str, body: bytes = b"") -> FaultRule | None:
        """The first rule that fires for this request (and count it)."""
        for rule in self.rules:
            if not _applies(rule, method, path):
                continue
            if rule.body_contains and rule.body_contains.encode() not in body:
                continue
            if rule.count is not None and rule.hits >= rule.count:
                continue
            if self._random.random() >= rule.rate:
                continue
            rule.hits += 1
            return rule
        return None


def _applies(rule: FaultRule, method: str, path: str) -> bool:
    if rule.method and rule.method.upper() != method.upper():
        return False
    return fnmatch.fnmatchcase(path, rule.path)


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the application again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


def _user(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            text = value.decode("latin-1")
            if text[:6].lower() == "basic ":
                try:
                    return base64.b64decode(text[6:]).decode().partition(":")[0]
                except ValueError:
                    return "?"
            return "bearer"
    return ""


async def _respond(send: Send, status: int, headers: dict[str, str], body: bytes) -> None:
    raw = [
        (k.encode(), v.encode()) for k, v in {**headers, "content-length": str(len(body))}.items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _error_json(status: int) -> bytes:
    text = "Service Unavailable" if status == 503 else "Internal Server Error"  # noqa: PLR2004
    return json.dumps(
        {
            "error": {
                "code": "/IWFND/CM_BEC/026" if status >= 500 else "SY/530",  # noqa: PLR2004
                "message": {"lang": "en", "value": text},
            }
        }
    ).encode()


class FaultMiddleware:
    """Applies fault rules to API paths and logs every API call (the admin prefix is exempt)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        store: Store,
        admin_prefix: str,
        on_csrf_expiry: Callable[[], None],
        on_token_expiry: Callable[[], None],
    ) -> None:
        self.app = app
        self.injector = injector
        self.store = store
        self.admin_prefix = admin_prefix
        self.on_csrf_expiry = on_csrf_expiry
        self.on_token_expiry = on_token_expiry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.admin_prefix):
            await self.app(scope, receive, send)
            return
        seen: dict[str, Any] = {"status": 0, "body": b"", "fault": "", "app_status": None}

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
            await send(message)

        async def logging_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(seen["body"]) < _LOGGED_BODY_BYTES:
                seen["body"] += message.get("body", b"")[:_LOGGED_BODY_BYTES]
            return message

        try:
            await self._apply(scope, logging_receive, logging_send, seen)
        finally:
            self.store.record_call(
                method=scope["method"],
                path=scope["path"],
                query=scope.get("query_string", b"").decode("latin-1"),
                status=int(seen["status"]),
                user=_user(scope),
                body=seen["body"][:_LOGGED_BODY_BYTES].decode("utf-8", errors="replace"),
                fault=seen["fault"],
                app_status=seen["app_status"],
            )

    async def _apply(
        self, scope: Scope, receive: Receive, send: Send, seen: dict[str, Any]
    ) -> None:
        method, path, request = scope["method"], scope["path"], b""
        if self.injector.wants_body(method=method, path=path):
            request, receive = await _buffered(receive)
        rule = self.injector.pick(method=method, path=path, body=request)
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.kind == "latency":
            await self.app(scope, receive, send)
        elif rule.kind == "error":
            await _respond(
                send, rule.status, {"content-type": "application/json"}, _error_json(rule.status)
            )
        elif rule.kind == "throttle":
            body = {
                "fault": {
                    "faultstring": "Rate limit quota violation. Quota limit exceeded.",
                    "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
                }
            }
            headers = {"content-type": "application/json", "retry-after": str(rule.retry_after_s)}
            await _respond(send, 429, headers, json.dumps(body).encode())
        elif rule.kind == "drop":
            await self._drop(send)
        elif rule.kind == "lost_answer":
            await self._lose_answer(scope, receive, send, rule=rule, seen=seen)
        else:
            (self.on_csrf_expiry if rule.kind == "csrf_expiry" else self.on_token_expiry)()
            await self.app(scope, receive, send)

    async def _drop(self, send: Send) -> None:
        # Promise a body and abort mid-way: the client sees the connection close early.
        headers = [(b"content-type", b"application/json"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"d":', "more_body": True})
        raise ConnectionAbortedError("sandbox fault injection: connection dropped")

    async def _lose_answer(
        self, scope: Scope, receive: Receive, send: Send, *, rule: FaultRule, seen: dict[str, Any]
    ) -> None:
        """Let the application process and commit the request, then lose its answer.

        The answer the application produced is discarded. With ``gateway_status`` the caller gets
        the gateway's error instead (504: SAP API Management's target timeout body; other
        statuses: the ICM/Web Dispatcher "Connection timed out" page); without it the
        connection closes before a single byte of the answer was sent.
        """
        produced: dict[str, int] = {"status": 0}

        async def discard(message: Message) -> None:
            if message["type"] == "http.response.start":
                produced["status"] = message["status"]

        await self.app(scope, receive, discard)
        seen["fault"] = "lost_answer"
        seen["app_status"] = produced["status"]
        if rule.gateway_status is not None:
            await _respond(send, rule.gateway_status, *_gateway_answer(rule.gateway_status))
            return
        try:
            await send({"type": "http.response.start", "status": 504, "headers": [_UNSENDABLE]})
        finally:
            seen["status"] = 0
        raise ConnectionAbortedError("sandbox fault injection: answer lost after commit")


def _gateway_answer(status: int) -> tuple[dict[str, str], bytes]:
    """The body a gateway in front of S/4 sends when the backend did not answer in time."""
    if status == 504:  # noqa: PLR2004
        body = {
            "fault": {
                "faultstring": "Gateway Timeout",
                "detail": {
                    "errorcode": "messaging.adaptors.http.flow.GatewayTimeout",
                    "reason": "TARGET_READ_TIMEOUT",
                },
            }
        }
        return {"content-type": "application/json"}, json.dumps(body).encode()
    page = f"<html><body><h2>{status} Connection timed out</h2></body></html>"
    return {"content-type": "text/html; charset=utf-8"}, page.encode()
