"""The HTTP surface: Dataverse webhooks, SAP business events, publish API, health."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace
from pydantic import SecretStr

from isthmus.ingress import auth
from isthmus.ingress.core import avro_json, dataverse, sap
from isthmus.ingress.core.ratelimit import RateLimiter
from isthmus.ingress.errors import (
    IngressError,
    MalformedError,
    RateLimitedError,
    UnknownTopicError,
    UnsupportedMediaError,
)
from isthmus.ingress.openapi_bodies import (
    CLOUD_EVENT,
    ERROR,
    PUBLISHED_EVENT,
    REMOTE_EXECUTION_CONTEXT,
    body,
)
from isthmus.ingress.pipeline import Ingress, Outcome, RequestContext
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
    tokens: auth.TokenIssuer
    limiter: RateLimiter
    publish_topics: dict[str, str]
    publish_token: SecretStr | None = None
    on_start: list[Callable[[], Any]] = field(default_factory=list)
    on_stop: list[Callable[[], Any]] = field(default_factory=list)


def create_app(components: Components) -> FastAPI:
    """The ASGI application over ``components``."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        for start in components.on_start:
            await _maybe_await(start())
        yield
        for stop in components.on_stop:
            await _maybe_await(stop())

    app = FastAPI(
        title="Isthmus ingress",
        version="1.0.0",
        description="Dataverse webhooks, SAP business events and the publish API into Kafka. "
        "A 2xx answer means Kafka acknowledged every produced record.",
        lifespan=lifespan,
    )
    app.state.components = components
    app.add_exception_handler(IngressError, _error_response)  # type: ignore[arg-type]
    _health_routes(app, components)
    _dataverse_routes(app, components)
    _sap_routes(app, components)
    _publish_routes(app, components)
    return app


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value


def _error_response(_request: Request, error: IngressError) -> JSONResponse:
    headers = {}
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after_s)
    content: dict[str, Any] = {"error": type(error).__name__, "message": error.message}
    if error.violations:
        content["violations"] = list(error.violations)
    return JSONResponse(status_code=error.status, content=content, headers=headers)


def _health_routes(app: FastAPI, components: Components) -> None:
    @app.get("/healthz", tags=["health"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="Ready when a Kafka broker answers")
    async def readyz() -> Response:
        ok = await asyncio.to_thread(components.ingress.producer.reachable)
        status = 200 if ok else 503
        return JSONResponse({"status": "ready" if ok else "kafka unreachable"}, status_code=status)


async def read_body(request: Request, *, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes.

    Raises:
        PayloadTooLargeError: the body is larger than ``limit``.
    """
    from isthmus.ingress.errors import PayloadTooLargeError  # noqa: PLC0415

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
    return b"".join(chunks)


def _limit(components: Components, request: Request, channel: str) -> None:
    client = request.client.host if request.client else "unknown"
    wait = components.limiter.take(f"{channel}:{client}")
    if wait:
        raise RateLimitedError("too many requests", retry_after_s=wait)


def _require_json(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaError("expected application/json")


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedError(f"body is not JSON: {exc}") from exc


def _request_context(request: Request, channel: str, correlation: str | None) -> RequestContext:
    correlation_id = (
        correlation or request.headers.get("isthmus-correlation-id") or str(uuid.uuid4())
    )
    return RequestContext(
        traceparent=outgoing_traceparent(request.headers.get("traceparent")),
        correlation_id=correlation_id,
        channel=channel,
    )


def _answer(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": "accepted",
        "produced": [{"topic": e.topic, "key": e.key} for e in outcome.produced],
        "duplicates": outcome.duplicates,
        "echoes": outcome.echoes,
    }


def _dataverse_routes(app: FastAPI, components: Components) -> None:
    settings = components.settings

    @app.post(
        "/v1/webhooks/dataverse",
        tags=["dataverse"],
        summary="Dataverse webhook (RemoteExecutionContext)",
        responses=ERRORS,
        openapi_extra=body(REMOTE_EXECUTION_CONTEXT),
    )
    async def dataverse_webhook(request: Request) -> dict[str, Any]:
        _limit(components, request, "dataverse")
        auth.check_dataverse(
            settings=settings.dataverse,
            headers=request.headers,
            query=dict(request.query_params),
        )
        _require_json(request)
        raw = await read_body(request, limit=settings.limits.max_body_bytes)
        context = dataverse.parse_context(
            _parse_json(raw), organization=request.headers.get("x-ms-dynamics-organization")
        )
        correlation = request.headers.get("x-ms-correlation-request-id")
        with tracer.start_as_current_span(
            "ingress dataverse webhook",
            context=propagate.extract(dict(request.headers)),
            kind=trace.SpanKind.SERVER,
        ):
            events = dataverse.events_for(
                context, settings=settings.dataverse, correlation_id=correlation
            )
            if not events:
                logger.info(
                    "webhook acknowledged and ignored: no flow uses this table/message",
                    extra={"table": context.table, "sdk_message": context.message},
                )
                return {"status": "ignored", "table": context.table, "message": context.message}
            req = _request_context(request, "dataverse-webhook", correlation)
            return _answer(await components.ingress.accept(events, req))


def _sap_routes(app: FastAPI, components: Components) -> None:
    settings = components.settings

    @app.options(
        "/v1/webhooks/sap",
        tags=["sap"],
        summary="CloudEvents webhook handshake (WebHook-Request-Origin)",
        responses={403: ERROR},
    )
    async def sap_handshake(request: Request) -> Response:
        origin = request.headers.get("webhook-request-origin")
        allowed = settings.sap.allowed_origins
        if origin is None:
            return Response(status_code=200, headers={"Allow": "OPTIONS, POST"})
        if "*" not in allowed and origin not in allowed:
            return JSONResponse({"error": "ForbiddenError"}, status_code=403)
        headers = {"WebHook-Allowed-Origin": origin, "Allow": "OPTIONS, POST"}
        headers["WebHook-Allowed-Rate"] = str(int(settings.limits.rate_per_s))
        return Response(status_code=200, headers=headers)

    @app.post(
        "/v1/webhooks/sap",
        tags=["sap"],
        summary="SAP business event (CloudEvents structured or binary mode)",
        responses=ERRORS,
        openapi_extra=body(CLOUD_EVENT, "application/cloudevents+json", "application/json"),
    )
    async def sap_event(request: Request) -> dict[str, Any]:
        _limit(components, request, "sap")
        auth.check_sap(
            settings=settings.sap,
            tokens=components.tokens,
            authorization=request.headers.get("authorization"),
        )
        raw = await read_body(request, limit=settings.limits.max_body_bytes)
        event = sap.parse_cloud_event(
            content_type=request.headers.get("content-type", ""),
            headers=request.headers,
            body=raw,
        )
        with tracer.start_as_current_span(
            "ingress sap event",
            context=propagate.extract(dict(request.headers)),
            kind=trace.SpanKind.SERVER,
        ):
            pending = sap.event_for(event, routes=settings.sap.routes, correlation_id=None)
            if pending is None:
                logger.info(
                    "event acknowledged and ignored: no flow uses this type",
                    extra={"type": event.type, "event_id": event.id},
                )
                return {"status": "ignored", "type": event.type}
            req = _request_context(request, "sap-event", event.id)
            return _answer(await components.ingress.accept([pending], req))

    @app.post(
        "/v1/oauth/token",
        tags=["sap"],
        summary="OAuth 2.0 client credentials for Event Mesh webhook delivery",
        responses={400: ERROR, 401: ERROR, 403: ERROR},
    )
    async def token(request: Request) -> dict[str, Any]:
        raw = await read_body(request, limit=8192)
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            client_id, client_secret = _basic(basic)
        if form.get("grant_type") != "client_credentials":
            raise MalformedError("grant_type must be client_credentials")
        value, lifetime = components.tokens.issue(client_id=client_id, client_secret=client_secret)
        return {"access_token": value, "token_type": "bearer", "expires_in": lifetime}


def _basic(header: str) -> tuple[str, str]:
    import base64  # noqa: PLC0415
    import binascii  # noqa: PLC0415

    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _publish_routes(app: FastAPI, components: Components) -> None:
    topics = sorted(components.publish_topics)

    @app.post(
        "/v1/events/{topic}",
        tags=["publish"],
        summary="Publish one event to an input topic (JSON validated against its Avro schema)",
        responses=ERRORS,
        openapi_extra={
            **body(PUBLISHED_EVENT),
            "parameters": [
                {
                    "name": "topic",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": topics},
                },
                {
                    "name": "key",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string"},
                    "description": "Kafka key (default: the first field of data).",
                },
            ],
        },
    )
    async def publish(request: Request, topic: str) -> dict[str, Any]:
        _limit(components, request, "publish")
        _check_publisher(components, request)
        _require_json(request)
        schema_name = components.publish_topics.get(topic)
        if schema_name is None:
            raise UnknownTopicError(f"topic {topic!r} is not open for publishing")
        raw = await read_body(request, limit=components.settings.limits.max_body_bytes)
        document = _parse_json(raw)
        schema = components.ingress.schema_json(schema_name)
        converted = avro_json.convert(document, schema, strict=True)
        if converted.violations:
            raise MalformedError(
                f"body does not fit {schema_name}", violations=tuple(converted.violations)
            )
        key = request.query_params.get("key") or _default_key(document)
        if not key:
            raise MalformedError("no key: pass ?key= or a first field of data with a value")
        req = _request_context(request, "publish-api", None)
        event_id = await components.ingress.publish(
            topic=topic, schema_name=schema_name, key=key, value=converted.value, request=req
        )
        return {"status": "accepted", "topic": topic, "key": key, "eventId": event_id}


def _check_publisher(components: Components, request: Request) -> None:
    expected = components.publish_token
    if expected is None:
        return
    from isthmus.ingress.errors import ForbiddenError, UnauthenticatedError  # noqa: PLC0415

    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        raise UnauthenticatedError("credentials required")
    import hmac  # noqa: PLC0415

    if not hmac.compare_digest(header[7:].strip().encode(), expected.get_secret_value().encode()):
        raise ForbiddenError("credentials refused")


def _default_key(document: Any) -> str | None:
    data = document.get("data") if isinstance(document, dict) else None
    source = data if isinstance(data, dict) else document
    if not isinstance(source, dict) or not source:
        return None
    first = next(iter(source.values()))
    return first if isinstance(first, str) and first else None
