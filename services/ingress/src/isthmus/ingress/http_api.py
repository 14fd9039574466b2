"""The ASGI application: Dataverse webhooks, SAP business events, publish API, health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isthmus.ingress.errors import IngressError
from isthmus.ingress.http_common import Components, error_response
from isthmus.ingress.metrics import IngressMetrics
from isthmus.ingress.openapi_bodies import SECURITY_SCHEMES
from isthmus.ingress.routes_publish import add_publish_routes
from isthmus.ingress.routes_webhooks import add_webhook_routes

__all__ = ["Components", "create_app"]


def create_app(components: Components) -> FastAPI:
    """The ASGI application over ``components``; start/stop hooks run in its lifespan."""

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
    _with_security_schemes(app)
    app.add_middleware(RequestMetrics, metrics=components.ingress.metrics)

    app.add_exception_handler(IngressError, error_response)  # type: ignore[arg-type]  # subclass
    add_publish_routes(app, components)
    add_webhook_routes(app, components)
    return app


class RequestMetrics:
    """Pure ASGI middleware counting answers by route and status, and their duration."""

    def __init__(self, app: ASGIApp, *, metrics: IngressMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, recording)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self._metrics.requests.add(1, {"route": route, "status": status})
            self._metrics.duration.record(time.perf_counter() - started, {"route": route})


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value


def _with_security_schemes(app: FastAPI) -> None:
    """Declare the credentials every operation names in its ``security``."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()
        document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override
