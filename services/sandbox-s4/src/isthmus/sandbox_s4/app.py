"""Composition root: builds every component of the sandbox and the ASGI application."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from isthmus.sandbox_kit.calllog import CallRecorder
from isthmus.sandbox_s4.business.billing import BillingRun
from isthmus.sandbox_s4.business.business_partner import BusinessPartners
from isthmus.sandbox_s4.business.delivery import Deliveries
from isthmus.sandbox_s4.business.journal import Journal
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.business.sales_order import SalesOrders
from isthmus.sandbox_s4.business.seed import Seeder
from isthmus.sandbox_s4.errors import (
    InternalError,
    MethodNotAllowedError,
    ODataError,
    ResourceNotFoundError,
)
from isthmus.sandbox_s4.eventmesh import messaging
from isthmus.sandbox_s4.eventmesh.events import EventBus
from isthmus.sandbox_s4.eventmesh.webhooks import WebhookPusher
from isthmus.sandbox_s4.http import admin, api_routes
from isthmus.sandbox_s4.http.auth import Authenticator
from isthmus.sandbox_s4.http.csrf import CsrfGuard
from isthmus.sandbox_s4.http.faults import FaultInjector, FaultMiddleware, caller_name
from isthmus.sandbox_s4.http.soap import JournalEntrySoapService
from isthmus.sandbox_s4.odata.batch import BatchProcessor
from isthmus.sandbox_s4.odata.edm import ServiceModel, load_service
from isthmus.sandbox_s4.odata.engine import ODataEngine
from isthmus.sandbox_s4.odata.messages import error_body
from isthmus.sandbox_s4.odata.wire import RuntimeOptions, ServiceBehaviour
from isthmus.sandbox_s4.settings import SandboxS4Settings
from isthmus.sandbox_s4.store import Store
from isthmus.sandbox_s4.watchdog import start_watchdog, stop_watchdog

_log = logging.getLogger(__name__)
ADMIN_PREFIX = "/_sandbox"
SERVICES = (
    "API_SALES_ORDER_SRV",
    "API_BUSINESS_PARTNER",
    "API_PRODUCT_SRV",
    "API_MATERIAL_STOCK_SRV",
    "API_OUTBOUND_DELIVERY_SRV",
    "API_BILLING_DOCUMENT_SRV",
    "API_JOURNALENTRYITEMBASIC_SRV",
)


def metadata_dir() -> Path:
    """The folder holding the packaged EDMX and WSDL files."""
    return Path(str(resources.files("isthmus.sandbox_s4") / "metadata"))


def load_models() -> dict[str, ServiceModel]:
    """Parse every served service's `$metadata`."""
    return {name: load_service(path=metadata_dir() / f"{name}.edmx") for name in SERVICES}


@dataclass
class Sandbox:
    """Every component of one sandbox instance."""

    settings: SandboxS4Settings
    store: Store
    models: dict[str, ServiceModel]
    options: RuntimeOptions
    engine: ODataEngine
    batch: BatchProcessor
    auth: Authenticator
    csrf: CsrfGuard
    bus: EventBus
    faults: FaultInjector
    billing: BillingRun
    soap: JournalEntrySoapService
    pusher: WebhookPusher | None = None

    def seed(self) -> None:
        """Load the seed catalogue."""
        Seeder(store=self.store, models=self.models).run()

    def reset(self, *, seed: bool) -> None:
        """Forget all state (entities, queues, calls, faults, runtime settings), then reseed."""
        self.store.wipe()
        self.faults.clear()
        self.csrf.expire_all()
        self.options.page_size = self.settings.page_size
        self.options.require_if_match = self.settings.require_if_match
        self.csrf.ttl_s = self.settings.csrf_ttl_s
        self.auth.token_ttl_s = self.settings.token_ttl_s
        self.bus.enabled = True
        if self.pusher is not None:
            self.pusher.reset()
        if seed:
            self.seed()


def _behaviours(master: MasterData, billing: BillingRun) -> dict[str, ServiceBehaviour]:
    from isthmus.sandbox_s4.odata.wire import EventSpec  # noqa: PLC0415 - only used here

    return {
        "API_SALES_ORDER_SRV": SalesOrders(master=master).behaviour(),
        "API_BUSINESS_PARTNER": BusinessPartners(master=master).behaviour(),
        "API_PRODUCT_SRV": ServiceBehaviour(
            component_id="LO-MD-MM",
            events={
                "A_Product": EventSpec("Product", ("Product",)),
                "A_ProductDescription": EventSpec("Product", ("Product",), operation="Changed"),
            },
        ),
        "API_MATERIAL_STOCK_SRV": ServiceBehaviour(component_id="MM-IM-GF"),
        "API_OUTBOUND_DELIVERY_SRV": Deliveries(master=master).behaviour(),
        "API_BILLING_DOCUMENT_SRV": billing.behaviour(),
        "API_JOURNALENTRYITEMBASIC_SRV": ServiceBehaviour(component_id="FI-GL-IS"),
    }


def build_sandbox(*, settings: SandboxS4Settings) -> Sandbox:
    """Wire the components (no network, no event loop needed)."""
    store = Store(path=settings.db_path)
    models = load_models()
    master = MasterData(store=store)
    journal = Journal(store=store, model=models["API_JOURNALENTRYITEMBASIC_SRV"], master=master)
    billing = BillingRun(store=store, models=models, master=master, journal=journal)
    options = RuntimeOptions(
        page_size=settings.page_size, require_if_match=settings.require_if_match
    )
    bus = EventBus(store=store, namespace=settings.event_namespace, source=settings.event_source)
    engine = ODataEngine(
        models=models,
        behaviours=_behaviours(master, billing),
        store=store,
        bus=bus,
        options=options,
    )
    password = settings.comm_password.get_secret_value()
    return Sandbox(
        settings=settings,
        store=store,
        models=models,
        options=options,
        engine=engine,
        batch=BatchProcessor(engine=engine),
        auth=Authenticator(
            users={settings.comm_user: password},
            clients={
                settings.oauth_client_id: (
                    settings.oauth_client_secret.get_secret_value(),
                    settings.comm_user,
                )
            },
            signing_key=settings.signing_key.get_secret_value(),
            token_ttl_s=settings.token_ttl_s,
        ),
        csrf=CsrfGuard(
            ttl_s=settings.csrf_ttl_s, system_id=settings.system_id, client=settings.client
        ),
        bus=bus,
        faults=FaultInjector(),
        billing=billing,
        soap=JournalEntrySoapService(journal=journal, logical_system=settings.logical_system),
    )


def _client(settings: SandboxS4Settings) -> httpx.AsyncClient:
    verify: ssl.SSLContext | bool = True
    if settings.webhook_ca_file is not None:
        verify = ssl.create_default_context(cafile=str(settings.webhook_ca_file))
    return httpx.AsyncClient(verify=verify, timeout=httpx.Timeout(60.0, connect=10.0))


async def _internal_error(request: Request, exc: Exception) -> Response:
    _log.error("internal error on %s %s", request.method, request.url.path, exc_info=exc)
    body = error_body(InternalError(), service="", component="")
    return JSONResponse(body, status_code=500)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unmatched paths under /sap/ answer like Gateway; other paths keep FastAPI's shape."""
    if not isinstance(exc, StarletteHTTPException):
        return await _internal_error(request, exc)
    if not request.url.path.startswith("/sap/"):
        return await http_exception_handler(request, exc)
    error: ODataError = ResourceNotFoundError(
        f"Resource not found for segment '{request.url.path}'"
    )
    if exc.status_code != error.status:
        error = MethodNotAllowedError(f"Method {request.method} is not allowed")
    return JSONResponse(error_body(error, service="", component=""), status_code=exc.status_code)


def create_app(*, sandbox: Sandbox) -> FastAPI:
    """The ASGI app: OData, token, SOAP, Event Mesh REST, admin API; faults and call log."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with _client(sandbox.settings) as client:
            sandbox.pusher = WebhookPusher(
                store=sandbox.store,
                bus=sandbox.bus,
                origin=sandbox.settings.webhook_origin,
                client=client,
                retry_base_s=sandbox.settings.webhook_retry_base_s,
            )
            sandbox.pusher.start()
            watchdog = start_watchdog(pid=sandbox.settings.parent_pid)
            try:
                yield
            finally:
                await stop_watchdog(watchdog)
                await sandbox.pusher.stop()
                sandbox.store.close()

    app = FastAPI(
        title="Isthmus S/4HANA sandbox",
        lifespan=lifespan,
        docs_url=f"{ADMIN_PREFIX}/docs",
        openapi_url=f"{ADMIN_PREFIX}/openapi.json",
        redoc_url=None,
    )
    app.add_exception_handler(Exception, _internal_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(admin.router(sandbox), prefix=ADMIN_PREFIX)
    app.include_router(messaging.router(sandbox))
    app.include_router(api_routes.router(sandbox))
    app.add_middleware(
        FaultMiddleware,
        injector=sandbox.faults,
        admin_prefix=ADMIN_PREFIX,
        on_csrf_expiry=sandbox.csrf.expire_all,
        on_token_expiry=sandbox.auth.revoke_all,
    )
    app.add_middleware(
        CallRecorder, store=sandbox.store, exempt_prefix=ADMIN_PREFIX, identify=caller_name
    )
    return app
