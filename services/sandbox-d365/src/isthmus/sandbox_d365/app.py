"""Composition root: builds every part of the sandbox and the ASGI application."""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from isthmus.sandbox_d365.business.actions import Actions
from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.business.seed import seed
from isthmus.sandbox_d365.business.store import Store
from isthmus.sandbox_d365.business.webhooks import WebhookDispatcher
from isthmus.sandbox_d365.context import Sandbox
from isthmus.sandbox_d365.http.admin import admin_router
from isthmus.sandbox_d365.http.calllog import CallLog
from isthmus.sandbox_d365.http.dataverse_routes import dataverse_router
from isthmus.sandbox_d365.http.entra_routes import entra_router
from isthmus.sandbox_d365.http.faults import Faults
from isthmus.sandbox_d365.http.pipeline import (
    ADMIN_PREFIX,
    REQUEST_ID_HEADERS,
    FaultMiddleware,
)
from isthmus.sandbox_d365.http.throttling import Limits, Throttle
from isthmus.sandbox_d365.http.webapi import WebApi
from isthmus.sandbox_d365.identity.apps import App, AppRegistry
from isthmus.sandbox_d365.identity.entra import EntraEmulator
from isthmus.sandbox_d365.identity.tokens import TokenService, object_id_of
from isthmus.sandbox_d365.odata.schema import Catalogue
from isthmus.sandbox_d365.settings import SandboxSettings
from isthmus.sandbox_kit.calllog import CallRecorder

logger = logging.getLogger(__name__)


def _store(settings: SandboxSettings, catalogue: Catalogue) -> Store:
    keys = {t.logical: t.alternate_keys for t in catalogue.by_logical.values()}
    related: dict[str, tuple[str, ...]] = {"productpricelevel": ("_productid_value",)}
    for table in catalogue.by_logical.values():
        for collection in table.collections.values():
            column = f"_{collection.lookup}_value"
            related[collection.table] = (*related.get(collection.table, ()), column)
    return Store(path=settings.db_path, keys=keys, related=related)


def _org(settings: SandboxSettings) -> dict[str, str]:
    return {
        "host": settings.org_url.split("://", 1)[-1].rstrip("/"),
        "organization_id": settings.organization_id,
        "organization_name": settings.organization_name,
        "business_unit_id": settings.business_unit_id,
        "system_user": object_id_of(settings.client_id.lower()),
    }


def build_sandbox(
    settings: SandboxSettings, *, webhook_verify: ssl.SSLContext | bool = True
) -> Sandbox:
    """Every part of the sandbox, wired together."""
    catalogue = build_catalogue()
    records = Records(store=_store(settings, catalogue), catalogue=catalogue)
    api = WebApi(records=records, catalogue=catalogue)
    Actions(
        api=api,
        organization_id=settings.organization_id,
        business_unit_id=settings.business_unit_id,
    )
    tokens = TokenService(store=records.store, tenant_id=settings.tenant_id)
    default_app = App(
        settings.client_id.lower(),
        settings.client_secret.get_secret_value(),
        roles=settings.client_roles,
    )
    apps = AppRegistry(store=records.store, default=default_app)
    lock = asyncio.Lock()
    webhooks = WebhookDispatcher(
        records=records,
        org=_org(settings),
        timeout_s=settings.webhook_timeout_s,
        verify=webhook_verify,
        lock=lock,
    )
    sandbox = Sandbox(
        settings=settings,
        records=records,
        api=api,
        tokens=tokens,
        apps=apps,
        entra=EntraEmulator(settings=settings, tokens=tokens, apps=apps),
        faults=Faults(),
        calls=CallLog(size=settings.call_log_size),
        throttle=Throttle(Limits(1, 1, 1.0, 1)),
        webhooks=webhooks,
        lock=lock,
    )
    sandbox.throttle.reset(sandbox.default_limits())
    return sandbox


def create_app(settings: SandboxSettings, *, ca_file: Path | None = None) -> FastAPI:
    """The ASGI application of one sandbox."""
    verify = ssl.create_default_context()  # public receivers, plus the local CA when known
    if ca_file is not None:
        verify.load_verify_locations(cafile=str(ca_file))
    sandbox = build_sandbox(settings, webhook_verify=verify)
    if settings.seed and not sandbox.records.store.all("transactioncurrency"):
        seed(sandbox.records, user_id=object_id_of(settings.client_id.lower()))
    app = FastAPI(
        title="Isthmus Dataverse sandbox",
        docs_url="/_sandbox/docs",
        openapi_url="/_sandbox/openapi.json",
        redoc_url=None,
    )
    app.state.sandbox = sandbox
    app.include_router(admin_router(sandbox))
    app.include_router(dataverse_router(sandbox))
    app.include_router(
        entra_router(entra=sandbox.entra, tokens=sandbox.tokens, tenant_id=settings.tenant_id)
    )
    _install_error_handlers(app)
    app.add_middleware(FaultMiddleware, faults=sandbox.faults)
    app.add_middleware(
        CallRecorder,
        store=sandbox.calls,
        exempt_prefix=ADMIN_PREFIX,
        request_id_headers=REQUEST_ID_HEADERS,
        dropped_connection_status=0,
    )
    return app


def _install_error_handlers(app: FastAPI) -> None:
    """Every error, even an unexpected one, is answered in Dataverse's JSON error shape."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": "0x80060888", "message": str(exc.detail)}},
            exc.status_code,
            headers={"OData-Version": "4.0"},
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": "0x80040203", "message": str(exc.errors())}},
            400,
            headers={"OData-Version": "4.0"},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        message = f"An unexpected error occurred. ({type(exc).__name__})"
        return JSONResponse(
            {"error": {"code": "0x80040216", "message": message}},
            500,
            headers={"OData-Version": "4.0"},
        )
