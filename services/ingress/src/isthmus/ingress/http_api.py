"""The ASGI application: Dataverse webhooks, SAP business events, publish API, health."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

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
    app.add_exception_handler(IngressError, error_response)  # type: ignore[arg-type]  # subclass
    add_publish_routes(app, components)
    add_webhook_routes(app, components)
    return app


async def _maybe_await(value: Any) -> None:
    if asyncio.iscoroutine(value):
        await value
