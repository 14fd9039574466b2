"""Dataverse webhooks and SAP business events (with the webhook handshake and OAuth tokens)."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import propagate, trace

from isthmus.ingress import auth
from isthmus.ingress.core import dataverse, sap
from isthmus.ingress.errors import MalformedError
from isthmus.ingress.http_common import (
    ERRORS,
    Components,
    answer,
    authenticated,
    limit_rate,
    parse_json,
    read_body,
    request_context,
    require_json,
    single_query,
    tracer,
)
from isthmus.ingress.openapi_bodies import (
    CLOUD_EVENT,
    ERROR,
    REMOTE_EXECUTION_CONTEXT,
    body,
    security,
)

logger = logging.getLogger(__name__)


def add_webhook_routes(app: FastAPI, components: Components) -> None:
    """Register the Dataverse and SAP endpoints."""

    @app.post(
        "/v1/webhooks/dataverse",
        tags=["dataverse"],
        summary="Dataverse webhook (RemoteExecutionContext)",
        responses=ERRORS,
        openapi_extra={**body(REMOTE_EXECUTION_CONTEXT), **security("dataverseWebhookKey")},
    )
    async def dataverse_webhook(request: Request) -> dict[str, Any]:
        return await handle_dataverse(components, request)

    @app.options(
        "/v1/webhooks/sap",
        tags=["sap"],
        summary="CloudEvents webhook handshake (WebHook-Request-Origin)",
        responses={403: ERROR},
    )
    async def sap_handshake(request: Request) -> Response:
        return handshake(components, request)

    @app.post(
        "/v1/webhooks/sap",
        tags=["sap"],
        summary="SAP business event (CloudEvents structured or binary mode)",
        responses=ERRORS,
        openapi_extra={
            **body(CLOUD_EVENT, "application/cloudevents+json", "application/json"),
            **security("eventMeshBasic", "eventMeshToken"),
        },
    )
    async def sap_event(request: Request) -> dict[str, Any]:
        return await handle_sap(components, request)

    @app.post(
        "/v1/oauth/token",
        tags=["sap"],
        summary="OAuth 2.0 client credentials for Event Mesh webhook delivery",
        responses={400: ERROR, 401: ERROR, 403: ERROR},
    )
    async def token(request: Request) -> dict[str, Any]:
        return await issue_token(components, request)


async def handle_dataverse(components: Components, request: Request) -> dict[str, Any]:
    """Rate limit, authenticate, read and convert one webhook call, then produce its events."""
    settings = components.settings
    limit_rate(components, request, "dataverse")
    auth.check_dataverse(
        settings=settings.dataverse, headers=request.headers, query=single_query(request)
    )
    authenticated(request, route="dataverse-webhook", caller="dataverse")
    require_json(request)
    raw = await read_body(request, limit=settings.limits.max_body_bytes)
    context = dataverse.parse_context(
        parse_json(raw), organization=request.headers.get("x-ms-dynamics-organization")
    )
    correlation = request.headers.get("x-ms-correlation-request-id")
    with _server_span("ingress dataverse webhook", request):
        events = dataverse.events_for(
            context, settings=settings.dataverse, correlation_id=correlation
        )
        if not events:
            logger.info(
                "webhook acknowledged and ignored: no flow uses this table/message",
                extra={"table": context.table, "sdk_message": context.message},
            )
            return {"status": "ignored", "table": context.table, "message": context.message}
        req = request_context(request, "dataverse-webhook", correlation)
        return answer(await components.ingress.accept(events, req))


def handshake(components: Components, request: Request) -> Response:
    """Answer the CloudEvents webhook validation with the allowed origin."""
    settings = components.settings
    origin = request.headers.get("webhook-request-origin")
    allowed = settings.sap.allowed_origins
    methods = {"allow": ["OPTIONS", "POST"]}
    if origin is None:
        return JSONResponse(methods, headers={"Allow": "OPTIONS, POST"})
    if "*" not in allowed and origin not in allowed:
        refused = {"error": "ForbiddenError", "message": "origin not allowed"}
        return JSONResponse(refused, status_code=403)
    headers = {
        "WebHook-Allowed-Origin": origin,
        "Allow": "OPTIONS, POST",
        "WebHook-Allowed-Rate": str(int(settings.limits.rate_per_s)),
    }
    return JSONResponse({**methods, "allowedOrigin": origin}, headers=headers)


async def handle_sap(components: Components, request: Request) -> dict[str, Any]:
    """Rate limit, authenticate, read one CloudEvent, hydrate and produce it."""
    settings = components.settings
    limit_rate(components, request, "sap")
    auth.check_sap(
        settings=settings.sap,
        tokens=components.tokens,
        authorization=request.headers.get("authorization"),
    )
    authenticated(request, route="sap-event", caller="event-mesh")
    raw = await read_body(request, limit=settings.limits.max_body_bytes)
    event = sap.parse_cloud_event(
        content_type=request.headers.get("content-type", ""), headers=request.headers, body=raw
    )
    with _server_span("ingress sap event", request):
        pending = sap.event_for(event, routes=settings.sap.routes, correlation_id=None)
        if pending is None:
            logger.info(
                "event acknowledged and ignored: no flow uses this type",
                extra={"type": event.type, "event_id": event.id},
            )
            return {"status": "ignored", "type": event.type}
        req = request_context(request, "sap-event", event.id)
        return answer(await components.ingress.accept([pending], req))


async def issue_token(components: Components, request: Request) -> dict[str, Any]:
    """Client credentials from the form or Basic auth → a bearer token."""
    raw = await read_body(request, limit=8192)
    form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        client_id, client_secret = _basic(header)
    if form.get("grant_type") != "client_credentials":
        raise MalformedError("grant_type must be client_credentials")
    value, lifetime = components.tokens.issue(client_id=client_id, client_secret=client_secret)
    return {"access_token": value, "token_type": "bearer", "expires_in": lifetime}


def _basic(header: str) -> tuple[str, str]:
    try:
        user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def _server_span(name: str, request: Request) -> Any:
    return tracer.start_as_current_span(
        name, context=propagate.extract(dict(request.headers)), kind=trace.SpanKind.SERVER
    )
