"""Admin API under `/_sandbox`: health, reset/seed, faults, call log, settings, billing run."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from isthmus.sandbox_kit.calllog import CallFilter
from isthmus.sandbox_s4.business.masterdata import MasterData
from isthmus.sandbox_s4.business.stock import StockLedger
from isthmus.sandbox_s4.errors import ODataError
from isthmus.sandbox_s4.eventmesh.events import QUEUE, PendingEvents, topic_of
from isthmus.sandbox_s4.eventmesh.webhooks import SUBSCRIPTION
from isthmus.sandbox_s4.http.faults import FaultRule
from isthmus.sandbox_s4.odata.entities import Context

if TYPE_CHECKING:
    from isthmus.sandbox_s4.app import Sandbox


class ResetRequest(BaseModel):
    """Body of POST /reset."""

    seed: bool = True


class RuntimeSettings(BaseModel):
    """Body of PUT /settings: behaviour switches (omitted fields stay unchanged)."""

    page_size: int | None = Field(default=None, ge=1)
    require_if_match: bool | None = None
    csrf_ttl_s: float | None = Field(default=None, gt=0)
    token_ttl_s: int | None = Field(default=None, gt=0)
    events_enabled: bool | None = None


class BillingRunRequest(BaseModel):
    """Body of POST /billing-run: deliveries to bill (all due ones when omitted)."""

    deliveries: list[str] | None = None


class StockCount(BaseModel):
    """Body of PUT /stock: set unrestricted stock (stands in for goods receipts and counts)."""

    material: str
    plant: str
    quantity: Decimal = Field(ge=0)
    storage_location: str | None = None
    unit: str | None = None


class EventSubscription(BaseModel):
    """Body of POST /event-subscriptions: queue + topic subscription + webhook in one call."""

    name: str
    endpoint: str
    topics: list[str] = Field(default_factory=lambda: ["*"])
    qos: int = 1
    auth: dict[str, Any] | None = None
    exempt_handshake: bool = False


def _settings_view(sandbox: Sandbox) -> dict[str, Any]:
    return {
        "page_size": sandbox.options.page_size,
        "require_if_match": sandbox.options.require_if_match,
        "csrf_ttl_s": sandbox.csrf.ttl_s,
        "token_ttl_s": sandbox.auth.token_ttl_s,
        "events_enabled": sandbox.bus.enabled,
    }


def _expand_topics(sandbox: Sandbox, topics: list[str]) -> list[str]:
    """`*` = every S/4 business event; a dotted type becomes its topic; topics stay as they are."""
    result = []
    for topic in topics:
        if topic == "*":
            result.append(f"{sandbox.bus.namespace}/ce/sap/s4/beh/*/v1/*/*/v1")
        elif topic.startswith("sap.s4.beh."):
            result.append(topic_of(namespace=sandbox.bus.namespace, type_=topic))
        else:
            result.append(topic)
    return result


def router(sandbox: Sandbox) -> APIRouter:  # noqa: C901 - one closure per endpoint
    """The admin routes (no authentication; the sandbox binds loopback)."""
    routes = APIRouter(tags=["sandbox admin"])

    @routes.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @routes.post("/reset")
    async def reset(body: ResetRequest | None = None) -> dict[str, str]:
        sandbox.reset(seed=body.seed if body else True)
        return {"status": "reset"}

    @routes.post("/seed")
    async def seed() -> dict[str, str]:
        sandbox.seed()
        return {"status": "seeded"}

    @routes.get("/faults")
    async def faults() -> list[FaultRule]:
        return sandbox.faults.rules

    @routes.post("/faults", status_code=201)
    async def add_fault(rule: FaultRule) -> FaultRule:
        return sandbox.faults.add(rule)

    @routes.delete("/faults/{rule_id}", status_code=204)
    async def remove_fault(rule_id: str) -> Response:
        if not sandbox.faults.remove(rule_id):
            raise HTTPException(404, f"fault {rule_id} not found")
        return Response(status_code=204)

    @routes.delete("/faults", status_code=204)
    async def clear_faults() -> Response:
        sandbox.faults.clear()
        return Response(status_code=204)

    @routes.get("/calls")
    async def calls(
        method: str | None = None, path_contains: str | None = None, since: float = 0
    ) -> list[dict[str, Any]]:
        wanted = CallFilter(method=method, path_contains=path_contains, since=since)
        return [
            c
            for c in sandbox.store.calls()
            if wanted.matches(method=c["method"], path=c["path"], status=c["status"], at=c["at"])
        ]

    @routes.delete("/calls", status_code=204)
    async def clear_calls() -> Response:
        sandbox.store.clear_calls()
        return Response(status_code=204)

    _state_routes(routes, sandbox)
    _document_routes(routes, sandbox)
    return routes


def _state_routes(routes: APIRouter, sandbox: Sandbox) -> None:
    @routes.post("/csrf/expire")
    async def expire_csrf() -> dict[str, str]:
        sandbox.csrf.expire_all()
        return {"status": "all CSRF tokens expired"}

    @routes.post("/tokens/expire")
    async def expire_tokens() -> dict[str, str]:
        sandbox.auth.revoke_all()
        return {"status": "all OAuth tokens expired"}

    @routes.get("/settings")
    async def get_settings() -> dict[str, Any]:
        return _settings_view(sandbox)

    @routes.put("/settings")
    async def put_settings(body: RuntimeSettings) -> dict[str, Any]:
        if body.page_size is not None:
            sandbox.options.page_size = body.page_size
        if body.require_if_match is not None:
            sandbox.options.require_if_match = body.require_if_match
        if body.csrf_ttl_s is not None:
            sandbox.csrf.ttl_s = body.csrf_ttl_s
        if body.token_ttl_s is not None:
            sandbox.auth.token_ttl_s = body.token_ttl_s
        if body.events_enabled is not None:
            sandbox.bus.enabled = body.events_enabled
        return _settings_view(sandbox)


def _document_routes(routes: APIRouter, sandbox: Sandbox) -> None:  # noqa: C901 - closures
    @routes.post("/billing-run")
    async def billing_run(body: BillingRunRequest | None = None) -> dict[str, Any]:
        pending = PendingEvents()
        model = sandbox.models["API_BILLING_DOCUMENT_SRV"]
        ctx = Context(
            store=sandbox.store,
            model=model,
            events=pending,
            user="BILLING_RUN",
            models=sandbox.models,
        )
        try:
            with sandbox.store.transaction():
                created = sandbox.billing.run(ctx=ctx, deliveries=body.deliveries if body else None)
        except ODataError as error:
            raise HTTPException(400, {"code": error.code, "message": error.message}) from error
        sandbox.bus.publish(events=pending.events)
        return {"billing_documents": created}

    @routes.post("/event-subscriptions", status_code=201)
    async def event_subscription(body: EventSubscription) -> dict[str, Any]:
        queue = f"isthmus/{body.name}"
        sandbox.store.put_document(
            kind=QUEUE, name=queue, data={"topics": _expand_topics(sandbox, body.topics)}
        )
        push = {
            "type": "webhook",
            "endpoint": body.endpoint,
            "exemptHandshake": body.exempt_handshake,
        }
        if body.auth:
            push["securitySchema"] = body.auth
        subscription = {
            "name": body.name,
            "address": f"queue:{queue}",
            "qos": body.qos,
            "pushConfig": push,
            "subscriptionState": "ACTIVE" if body.exempt_handshake else "PAUSED",
            "handshakeStatus": "EXEMPTED" if body.exempt_handshake else "PENDING",
        }
        sandbox.store.put_document(kind=SUBSCRIPTION, name=body.name, data=subscription)
        if not body.exempt_handshake and sandbox.pusher is not None:
            subscription = await sandbox.pusher.handshake(name=body.name)
        return {k: v for k, v in subscription.items() if k != "pushConfig"} | {"queue": queue}

    @routes.put("/stock")
    async def put_stock(body: StockCount) -> dict[str, Any]:
        master = MasterData(store=sandbox.store)
        plant = master.plant(body.plant)
        if plant is None:
            raise HTTPException(400, f"plant {body.plant} does not exist")
        product = sandbox.store.get(
            service="API_PRODUCT_SRV", entity_set="A_Product", key=(body.material,)
        )
        if product is None:
            raise HTTPException(400, f"material {body.material} does not exist")
        location = body.storage_location or plant["storage_location"]
        pending = PendingEvents()
        ledger = StockLedger(
            store=sandbox.store, model=sandbox.models["API_MATERIAL_STOCK_SRV"], events=pending
        )
        with sandbox.store.transaction():
            ledger.set(
                material=body.material,
                plant=body.plant,
                storage_location=location,
                quantity=body.quantity,
                unit=body.unit or product["BaseUnit"],
            )
        sandbox.bus.publish(events=pending.events)
        available = ledger.available(material=body.material, plant=body.plant)
        return {"material": body.material, "plant": body.plant, "unrestricted": str(available)}

    @routes.get("/deliveries")
    async def deliveries(subscription: str | None = None) -> list[dict[str, Any]]:
        log = list(sandbox.pusher.deliveries) if sandbox.pusher else []
        return [d for d in log if subscription is None or d["subscription"] == subscription]

    @routes.get("/time")
    async def server_time() -> dict[str, float]:
        return {"now": time.time()}
