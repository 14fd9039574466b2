"""What every HTTP route shares: the components, body limits, rate limit, request context."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from opentelemetry import trace

from isthmus.ingress.auth import TokenIssuer
from isthmus.ingress.core import strict_json
from isthmus.ingress.core.ratelimit import RateLimiter
from isthmus.ingress.errors import (
    ForbiddenError,
    IngressError,
    MalformedError,
    PayloadTooLargeError,
    RateLimitedError,
    RejectedError,
    UnauthenticatedError,
    UnavailableError,
    UnsupportedMediaError,
)
from isthmus.ingress.openapi_bodies import ERROR
from isthmus.ingress.pipeline import Ingress, Outcome
from isthmus.ingress.publishers import PublisherAuth
from isthmus.ingress.records import RequestContext
from isthmus.ingress.refusals import Refusal, RefusalKeeper
from isthmus.ingress.settings import IngressSettings
from isthmus.ingress.tracing import outgoing_traceparent

logger = logging.getLogger(__name__)
tracer = trace.get_tracer("isthmus.ingress")
ERRORS: dict[int | str, dict[str, Any]] = dict.fromkeys(
    (400, 401, 403, 404, 413, 415, 429, 503), ERROR
)


@dataclass
class Components:
    """What the HTTP layer needs, built by the composition root."""

    settings: IngressSettings
    ingress: Ingress
    tokens: TokenIssuer
    limiter: RateLimiter
    publish_topics: dict[str, str]
    publishers: PublisherAuth
    refusals: RefusalKeeper
    on_start: list[Callable[[], Any]] = field(default_factory=list)
    on_stop: list[Callable[[], Any]] = field(default_factory=list)


def authenticated(request: Request, *, route: str, caller: str) -> None:
    """Note that the caller of ``request`` passed authentication: refusals are kept from now."""
    request.state.caller = (route, caller)


async def error_response(request: Request, error: IngressError) -> JSONResponse:
    """The JSON answer of a refused request (no detail beyond the error's own message).

    Every refusal is logged with its URL (masked by the log formatter) and reason: a wrong or
    missing credential as a warning, other refusals at info. A refusal after authentication is
    kept first (``refusals``): the answer names its dead letter, or is a 503 when Kafka did not
    take it.
    """
    kept: dict[str, str] | None = None
    if _keeps(request, error):
        try:
            kept = await _keep(request, error)
        except UnavailableError as unavailable:
            logger.error("refused request not kept, answering 503: %s", unavailable.message)
            error = unavailable
    level = logging.WARNING if error.status in {401, 403} else logging.INFO
    client = request.client.host if request.client else "unknown"
    logger.log(
        level,
        "refused %s %s with %d: %s",
        request.method,
        request.url,
        error.status,
        error.message,
        extra={"client": client, "error": type(error).__name__},
    )
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after_s)
    if isinstance(error, UnauthenticatedError) and error.challenge:
        headers["WWW-Authenticate"] = error.challenge
    content: dict[str, Any] = {"error": type(error).__name__, "message": error.message}
    if error.violations:
        content["violations"] = list(error.violations)
    if kept is not None:
        content["deadLetter"] = kept
    return JSONResponse(status_code=error.status, content=content, headers=headers)


_NOT_KEPT = (UnauthenticatedError, ForbiddenError, RateLimitedError)


def _keeps(request: Request, error: IngressError) -> bool:
    caller = getattr(request.state, "caller", None)
    return (
        caller is not None and isinstance(error, RejectedError) and not isinstance(error, _NOT_KEPT)
    )


async def _keep(request: Request, error: IngressError) -> dict[str, str]:
    components: Components = request.app.state.components
    route, caller = request.state.caller
    body = getattr(request.state, "body", None)
    if body is None and not isinstance(error, PayloadTooLargeError):
        try:
            body = await read_body(request, limit=components.settings.limits.max_body_bytes)
        except (PayloadTooLargeError, RuntimeError):  # too large, or the stream was consumed
            body = None
    context = request_context(request, route, request.headers.get("x-ms-correlation-request-id"))
    refusal = Refusal(
        route=route,
        caller=caller,
        body=body or b"",
        content_type=request.headers.get("content-type", ""),
        traceparent=context.traceparent,
        correlation_id=context.correlation_id,
        error=error,
        key=request.query_params.get("key") if route == "publish-api" else None,
    )
    request_id = await components.refusals.keep(refusal)
    return {"topic": components.refusals.topic or "", "id": request_id}


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes.

    Raises:
        PayloadTooLargeError: the body is larger than ``limit``.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError(f"body larger than {limit} bytes")
        chunks.append(chunk)
    body = request.state.body = b"".join(chunks)
    return body


def limit_rate(components: Components, request: Request, channel: str) -> None:
    """Take a token of the (channel, client address) bucket.

    Raises:
        RateLimitedError: the bucket is empty.
    """
    client = request.client.host if request.client else "unknown"
    wait = components.limiter.take(f"{channel}:{client}")
    if wait:
        raise RateLimitedError("too many requests", retry_after_s=wait)


def require_json(request: Request) -> None:
    """Accept ``application/json`` and ``*+json`` only.

    Raises:
        UnsupportedMediaError: any other content type.
    """
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaError("expected application/json")


def parse_json(raw: bytes) -> Any:
    """The JSON document of a body, read strictly (``core.strict_json``).

    Raises:
        MalformedError: not JSON (the parser's message says where), a duplicated key, NaN,
            a lone surrogate, or nesting beyond the depth limit.
    """
    return strict_json.loads(raw)


def single_query(request: Request) -> dict[str, str]:
    """The query parameters, each given once (a repeated one would be decided by its last value).

    Raises:
        MalformedError: a parameter appears more than once.
    """
    params = request.query_params
    repeated = sorted({name for name in params if len(params.getlist(name)) > 1})
    if repeated:
        raise MalformedError(
            "query parameters must be given once",
            violations=tuple(f"?{name}: appears more than once" for name in repeated),
        )
    return dict(params)


def request_context(request: Request, channel: str, correlation: str | None) -> RequestContext:
    """Trace and correlation ids every record of this request carries."""
    correlation_id = (
        correlation or request.headers.get("isthmus-correlation-id") or str(uuid.uuid4())
    )
    return RequestContext(
        traceparent=outgoing_traceparent(request.headers.get("traceparent")),
        correlation_id=correlation_id,
        channel=channel,
    )


def answer(outcome: Outcome) -> dict[str, Any]:
    """The 200 body of an accepted request."""
    return {
        "status": "accepted",
        "produced": [{"topic": e.topic, "key": e.key} for e in outcome.produced],
        "duplicates": outcome.duplicates,
        "echoes": outcome.echoes,
    }
