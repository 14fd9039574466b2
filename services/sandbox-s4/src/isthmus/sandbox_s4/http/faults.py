"""SAP fault rules per endpoint pattern, and the middleware that applies them."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import uuid
from collections.abc import Callable
from typing import Literal

from pydantic import Field
from starlette.types import ASGIApp, Receive, Scope, Send

from isthmus.sandbox_kit.faults import (
    FaultPolicy,
    FaultRules,
    buffered_receive,
    drop_connection,
    lose_answer,
    respond,
)
from isthmus.sandbox_kit.faults import FaultRule as CommonFaultRule

FaultKind = Literal[
    "latency", "error", "throttle", "drop", "lost_answer", "csrf_expiry", "token_expiry"
]
POLICY = FaultPolicy(latency_stacks=False, exhausted="kept")
"""The first rule that fires is the one applied; a rule past its ``count`` stays listed."""
_JSON = [(b"content-type", b"application/json")]


class FaultRule(CommonFaultRule):
    """One rule: which requests it hits and what happens to them.

    ``status`` is the answer of an ``error`` rule, ``retry_after_s`` the ``Retry-After`` of a
    ``throttle``, ``body_contains`` restricts the rule to requests whose body contains the
    text, ``count`` limits the hits.
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12])
    kind: FaultKind
    status: int = 503
    retry_after_s: int = 1
    body_contains: str | None = Field(
        default=None, description="only requests whose body contains this text"
    )
    count: int | None = Field(default=None, description="hit at most this many requests")

    def limit(self) -> int | None:
        """The ``count`` given."""
        return self.count

    def wants_body(self) -> bool:
        """Rules with ``body_contains`` look into the body."""
        return bool(self.body_contains)

    def matches_body(self, body: bytes) -> bool:
        """Whether the body contains ``body_contains`` (always, when unset)."""
        return not self.body_contains or self.body_contains.encode() in body


class FaultInjector(FaultRules[FaultRule]):
    """The active SAP rules, sampled with a fixed seed."""

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__(policy=POLICY, seed=seed)


def caller_name(scope: Scope) -> str:
    """The user of a Basic authorization, ``bearer`` for a token, empty when anonymous."""
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
    """Applies fault rules to API paths (the admin prefix is exempt)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        injector: FaultInjector,
        admin_prefix: str,
        on_csrf_expiry: Callable[[], None],
        on_token_expiry: Callable[[], None],
    ) -> None:
        self.app = app
        self.injector = injector
        self.admin_prefix = admin_prefix
        self.on_csrf_expiry = on_csrf_expiry
        self.on_token_expiry = on_token_expiry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay, answer, drop or lose the answer as the first firing rule says."""
        if scope["type"] != "http" or scope["path"].startswith(self.admin_prefix):
            await self.app(scope, receive, send)
            return
        method, path, request = scope["method"], scope["path"], b""
        if self.injector.wants_body(method=method, path=path):
            request, receive = await buffered_receive(receive)
        rule = self.injector.match(method=method, path=path, body=request).rule
        if rule is None:
            await self.app(scope, receive, send)
            return
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.kind == "latency":
            await self.app(scope, receive, send)
        elif rule.kind == "error":
            await respond(send, rule.status, _JSON, _error_json(rule.status))
        elif rule.kind == "throttle":
            body = {
                "fault": {
                    "faultstring": "Rate limit quota violation. Quota limit exceeded.",
                    "detail": {"errorcode": "policies.ratelimit.QuotaViolation"},
                }
            }
            headers = [*_JSON, (b"retry-after", str(rule.retry_after_s).encode())]
            await respond(send, 429, headers, json.dumps(body).encode())
        elif rule.kind == "drop":
            headers = [*_JSON, (b"content-length", b"1000")]
            await drop_connection(send, headers=headers, partial_body=b'{"d":')
        elif rule.kind == "lost_answer":
            gateway = rule.gateway_status
            answer = None if gateway is None else functools.partial(_gateway_answer, gateway)
            await lose_answer(self.app, scope, receive, send, gateway_answer=answer)
        else:
            (self.on_csrf_expiry if rule.kind == "csrf_expiry" else self.on_token_expiry)()
            await self.app(scope, receive, send)


async def _gateway_answer(status: int, send: Send) -> None:
    """The answer a gateway in front of S/4 sends when the backend did not answer in time.

    504: SAP API Management's target timeout body; other statuses: the ICM/Web Dispatcher
    "Connection timed out" page.
    """
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
        await respond(send, status, _JSON, json.dumps(body).encode())
        return
    page = f"<html><body><h2>{status} Connection timed out</h2></body></html>"
    await respond(send, status, [(b"content-type", b"text/html; charset=utf-8")], page.encode())
