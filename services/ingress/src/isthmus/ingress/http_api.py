"""The ASGI application: Dataverse webhooks, SAP business events, publish API, health."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response

from isthmus.ingress.errors import IngressError
from isthmus.ingress.http_common import Components, error_response
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
    instruments = components.ingress.metrics

    @app.middleware("http")
    async def measure(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response: Response = await call_next(request)
        route = request.scope.get("route")
        labels = {"route": getattr(route, "path", "unmatched"), "status": response.status_code}
        instruments.requests.add(1, labels)
        instruments.duration.record(time.perf_counter() - started, {"route": labels["route"]})
        return response

    app.add_exception_handler(IngressError, error_response)  # type: ignore[arg-type]  # subclass
    add_publish_routes(app, components)
    add_webhook_routes(app, components)
    return app


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value
