"""The publish API for application teams, and the health endpoints."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from isthmus.ingress.core import avro_json
from isthmus.ingress.errors import (
    MalformedError,
    UnknownTopicError,
)
from isthmus.ingress.http_common import (
    ERRORS,
    Components,
    authenticated,
    limit_rate,
    parse_json,
    read_body,
    request_context,
    require_json,
)
from isthmus.ingress.openapi_bodies import PUBLISHED_EVENT, body, security


def add_publish_routes(app: FastAPI, components: Components) -> None:
    """Register ``POST /v1/events/{topic}``, ``/healthz`` and ``/readyz``."""

    @app.get("/healthz", tags=["health"], summary="Liveness: fails once the producer is broken")
    async def healthz() -> Response:
        failure = components.ingress.producer.failure
        if failure is not None:
            return JSONResponse({"status": failure}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", tags=["health"], summary="Ready when a Kafka broker answers")
    async def readyz() -> Response:
        producer = components.ingress.producer
        failure = producer.failure
        ok = failure is None and await asyncio.to_thread(producer.reachable)
        status = failure or ("ready" if ok else "kafka unreachable")
        return JSONResponse({"status": status}, status_code=200 if ok else 503)

    @app.post(
        "/v1/events/{topic}",
        tags=["publish"],
        summary="Publish one event to an input topic (JSON validated against its Avro schema)",
        responses=ERRORS,
        openapi_extra={
            **body(PUBLISHED_EVENT),
            **security("publisherToken", "publisherApiKey"),
            "parameters": _parameters(components),
        },
    )
    async def publish(request: Request) -> dict[str, Any]:
        # The path parameter is declared once, by _parameters (with the topics as an enum).
        return await handle_publish(components, request, request.path_params["topic"])


def _parameters(components: Components) -> list[dict[str, Any]]:
    topics = sorted(components.publish_topics)
    return [
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
    ]


async def handle_publish(components: Components, request: Request, topic: str) -> dict[str, Any]:
    """Validate the JSON against the topic's schema (every violation listed) and produce it."""
    limit_rate(components, request, "publish")
    publishers = components.publishers
    publisher = await publishers.authenticate(request.headers)
    authenticated(request, route="publish-api", caller=publisher.name)
    schema_name = components.publish_topics.get(topic)
    role = publishers.required_role(topic)
    if schema_name is None or role is None:
        raise UnknownTopicError(f"topic {topic!r} is not open for publishing")
    publishers.authorize(publisher, topic, role)
    require_json(request)
    raw = await read_body(request, limit=components.settings.limits.max_body_bytes)
    schema = components.ingress.schema_json(schema_name)
    converted = avro_json.convert(parse_json(raw), schema, strict=True)
    if converted.violations:
        raise MalformedError(
            f"body does not fit {schema_name}", violations=tuple(converted.violations)
        )
    key = request.query_params.get("key") or _default_key(converted.value, schema)
    if not key:
        raise MalformedError("no key: pass ?key= or give the first field of data a value")
    event_id = await components.ingress.publish(
        topic=topic,
        schema_name=schema_name,
        key=key,
        value=converted.value,
        request=request_context(request, "publish-api", None),
    )
    return {"status": "accepted", "topic": topic, "key": key, "eventId": event_id}


def _default_key(value: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """The first field of ``data`` (events) or of the record itself, when it is text."""
    fields = schema["fields"]
    record, record_schema = value, schema
    data = next((f for f in fields if f["name"] == "data"), None)
    if data is not None and isinstance(data["type"], dict):
        record, record_schema = value.get("data") or {}, data["type"]
    first = record_schema.get("fields", [{}])[0].get("name")
    candidate = record.get(first) if first else None
    return candidate if isinstance(candidate, str) and candidate else None
