"""Admin API under ``/_sandbox``: reset, seed, faults, call log, throttling, tokens, webhooks."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from isthmus.sandbox_d365.business.seed import ensure_message_filter, seed, sid
from isthmus.sandbox_d365.context import Sandbox
from isthmus.sandbox_d365.errors import DataverseError
from isthmus.sandbox_d365.http.faults import FaultSpec
from isthmus.sandbox_d365.http.throttling import Limits
from isthmus.sandbox_d365.identity.apps import App
from isthmus.sandbox_d365.identity.tokens import object_id_of
from isthmus.sandbox_d365.odata.refs import KeyRef

AUTH_TYPES = {"WebhookKey": 4, "HttpHeader": 5, "HttpQueryString": 6}


class ThrottleSpec(BaseModel):
    """New service protection limits."""

    requests: int = Field(ge=1)
    execution_ms: int = Field(ge=1)
    window_s: float = Field(gt=0)
    concurrency: int = Field(ge=1)


class TokenSpec(BaseModel):
    """Token settings."""

    lifetime_s: int = Field(ge=1)


class AppSpec(BaseModel):
    """An extra app registration."""

    client_id: str
    client_secret: str
    application_user: bool = True
    roles: tuple[str, ...] = ()


class WebhookSpec(BaseModel):
    """A webhook: a service endpoint (contract 8) plus one step."""

    url: str
    message: Literal["Create", "Update", "Delete"]
    table: str
    auth_type: Literal["WebhookKey", "HttpHeader", "HttpQueryString"] = "WebhookKey"
    auth_value: str = ""
    auth_pairs: dict[str, str] | None = None
    filtering_attributes: list[str] = Field(default_factory=list)
    mode: Literal[0, 1] = 1
    images: list[Literal["pre", "post"]] = Field(default_factory=list)
    name: str | None = None


def _auth_value(spec: WebhookSpec) -> str:
    if spec.auth_pairs is None:
        return spec.auth_value
    settings = "".join(f'<setting name="{k}" value="{v}"/>' for k, v in spec.auth_pairs.items())
    return f"<settings>{settings}</settings>"


def admin_router(sandbox: Sandbox) -> APIRouter:
    """All admin routes."""
    router = APIRouter(prefix="/_sandbox")
    system_user = object_id_of(sandbox.settings.client_id)
    _state_routes(router, sandbox, system_user)
    _fault_routes(router, sandbox)
    _identity_routes(router, sandbox)
    _webhook_routes(router, sandbox, system_user)
    return router


def _state_routes(router: APIRouter, sandbox: Sandbox, system_user: str) -> None:
    @router.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @router.post("/reset")
    async def reset(with_seed: bool = True) -> dict[str, str]:
        async with sandbox.lock:
            _reset(sandbox, with_seed=with_seed, system_user=system_user)
        return {"status": "reset"}

    @router.post("/seed")
    async def reseed() -> dict[str, str]:
        async with sandbox.lock:
            seed(sandbox.records, user_id=system_user)
        return {"status": "seeded"}

    @router.get("/calls")
    async def calls(
        method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        return sandbox.calls.query(method=method, path=path, status=status)

    @router.delete("/calls")
    async def clear_calls() -> dict[str, str]:
        sandbox.calls.clear()
        return {"status": "cleared"}


def _fault_routes(router: APIRouter, sandbox: Sandbox) -> None:
    @router.get("/faults")
    async def faults() -> list[dict[str, Any]]:
        return [r.describe() for r in sandbox.faults.rules]

    @router.post("/faults", status_code=201)
    async def add_fault(spec: FaultSpec) -> dict[str, Any]:
        return sandbox.faults.add(spec).describe()

    @router.delete("/faults")
    async def clear_faults() -> dict[str, str]:
        sandbox.faults.clear()
        return {"status": "cleared"}

    @router.delete("/faults/{rule_id}")
    async def remove_fault(rule_id: str) -> dict[str, str]:
        if not sandbox.faults.remove(rule_id):
            raise HTTPException(404, "no such fault rule")
        return {"status": "removed"}


def _identity_routes(router: APIRouter, sandbox: Sandbox) -> None:
    @router.get("/throttling")
    async def throttling() -> dict[str, Any]:
        return asdict(sandbox.throttle.limits)

    @router.put("/throttling")
    async def set_throttling(spec: ThrottleSpec) -> dict[str, Any]:
        sandbox.throttle.reset(Limits(**spec.model_dump()))
        return asdict(sandbox.throttle.limits)

    @router.put("/tokens")
    async def set_tokens(spec: TokenSpec) -> dict[str, int]:
        sandbox.entra.token_lifetime_s = spec.lifetime_s
        return {"lifetime_s": spec.lifetime_s}

    @router.post("/tokens/expire")
    async def expire_tokens() -> dict[str, str]:
        sandbox.tokens.revoke_all()
        return {"status": "every token issued so far is now expired"}

    @router.get("/apps")
    async def apps() -> list[dict[str, object]]:
        return sandbox.apps.listing()

    @router.post("/apps", status_code=201)
    async def add_app(spec: AppSpec) -> dict[str, object]:
        async with sandbox.lock:
            sandbox.apps.add(
                App(spec.client_id.lower(), spec.client_secret, spec.application_user, spec.roles)
            )
        return {
            "client_id": spec.client_id.lower(),
            "application_user": spec.application_user,
            "roles": spec.roles,
        }


def _webhook_routes(router: APIRouter, sandbox: Sandbox, system_user: str) -> None:
    @router.post("/webhooks", status_code=201)
    async def add_webhook(spec: WebhookSpec) -> dict[str, str]:
        async with sandbox.lock:
            return _register(sandbox, spec, system_user)

    @router.get("/webhooks")
    async def webhooks() -> list[dict[str, Any]]:
        store = sandbox.records.store
        return [
            {k: v for k, v in s.items() if not k.startswith("~")}
            for s in store.all("sdkmessageprocessingstep")
        ]

    @router.delete("/webhooks/{step_id}")
    async def remove_webhook(step_id: str) -> dict[str, str]:
        table = sandbox.records.catalogue.table("sdkmessageprocessingstep")
        async with sandbox.lock:
            try:
                sandbox.records.delete(
                    table, KeyRef(row_id=step_id.lower()), user_id=system_user, if_match=None
                )
            except DataverseError as error:
                raise HTTPException(error.status, error.message) from error
            finally:
                sandbox.records.drain()
        return {"status": "removed"}

    @router.get("/webhooks/deliveries")
    async def deliveries(
        failed: bool | None = None,
        entity: str | None = None,
        message: str | None = None,
        body: bool = False,
    ) -> list[dict[str, Any]]:
        hooks = sandbox.webhooks
        return [
            {**asdict(d), "body": hooks.sent_body(d.id)} if body else asdict(d)
            for d in hooks.deliveries
            if (failed is None or d.succeeded != failed)
            and (entity is None or d.entity == entity)
            and (message is None or d.message == message)
        ]

    @router.post("/webhooks/deliveries/{delivery_id}/redeliver")
    async def redeliver(delivery_id: str) -> dict[str, Any]:
        try:
            return asdict(await sandbox.webhooks.redeliver(delivery_id))
        except KeyError:
            raise HTTPException(404, f"no delivery {delivery_id} is kept") from None


def _reset(sandbox: Sandbox, *, with_seed: bool, system_user: str) -> None:
    sandbox.records.store.clear()
    sandbox.faults.clear()
    sandbox.calls.clear()
    sandbox.webhooks.clear()
    sandbox.throttle.reset(sandbox.default_limits())
    sandbox.entra.token_lifetime_s = sandbox.settings.token_lifetime_s
    if with_seed:
        seed(sandbox.records, user_id=system_user)


def _register(sandbox: Sandbox, spec: WebhookSpec, user: str) -> dict[str, str]:
    records = sandbox.records
    if spec.table not in records.catalogue.by_logical:
        raise HTTPException(400, f"unknown table {spec.table}")
    name = spec.name or f"{spec.url}: {spec.message} of {spec.table}"
    with records.store.transaction():
        endpoint = records.create(
            records.catalogue.table("serviceendpoint"),
            {
                "name": name,
                "contract": 8,
                "url": spec.url,
                "messageformat": 2,
                "authtype": AUTH_TYPES[spec.auth_type],
                "authvalue": _auth_value(spec),
            },
            user_id=user,
        )
        step_body: dict[str, Any] = {
            "name": name,
            "stage": 40,
            "mode": spec.mode,
            "rank": 1,
            "filteringattributes": ",".join(spec.filtering_attributes) or None,
            "isthmus_images": ",".join(spec.images) or None,
            "eventhandler_serviceendpoint@odata.bind": (
                f"/serviceendpoints({endpoint['serviceendpointid']})"
            ),
            "sdkmessageid@odata.bind": f"/sdkmessages({sid(f'message:{spec.message}')})",
        }
        filter_id = ensure_message_filter(
            records, message=spec.message, table=spec.table, user_id=user
        )
        step_body["sdkmessagefilterid@odata.bind"] = f"/sdkmessagefilters({filter_id})"
        step = records.create(
            records.catalogue.table("sdkmessageprocessingstep"), step_body, user_id=user
        )
    records.drain()
    return {
        "serviceendpointid": endpoint["serviceendpointid"],
        "sdkmessageprocessingstepid": step["sdkmessageprocessingstepid"],
    }
