"""The ``/api/data/v9.x/`` route: bearer check, throttling, dispatch, webhooks."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, Request
from fastapi.responses import Response

from isthmus.sandbox_d365.business.rows import WriteEvent
from isthmus.sandbox_d365.business.webhooks import Delivery
from isthmus.sandbox_d365.context import Sandbox
from isthmus.sandbox_d365.errors import ISV_ABORTED, NOT_MEMBER, DataverseError
from isthmus.sandbox_d365.http.pipeline import LATENCY_KEY
from isthmus.sandbox_d365.identity.entra import origin_of
from isthmus.sandbox_d365.identity.tokens import Caller, TokenRejectedError
from isthmus.sandbox_d365.odata.batch import run_batch
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse

METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE"]


def _authenticate(sandbox: Sandbox, request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    authority = f"https://login.microsoftonline.com/{sandbox.settings.tenant_id}/oauth2/authorize"
    challenge = {
        "WWW-Authenticate": (
            f"Bearer authorization_uri={authority}, resource_id={sandbox.settings.org_url}/"
        )
    }
    if not header.lower().startswith("bearer "):
        raise DataverseError(
            status=401, code="", message="Bearer token is missing.", headers=challenge
        )
    origin = origin_of(request)
    try:
        caller = sandbox.tokens.validate(
            header[7:].strip(), audiences=sandbox.entra.resources(origin)
        )
    except TokenRejectedError as exc:
        raise DataverseError(status=401, code="", message=exc.reason, headers=challenge) from exc
    app = sandbox.apps.get(caller.app_id)
    if app is None or not app.application_user:
        raise DataverseError(
            status=403, code=NOT_MEMBER, message="The user is not a member of the organization."
        )
    return caller


def _to_response(api_response: ApiResponse) -> Response:
    return Response(
        content=api_response.body, status_code=api_response.status, headers=api_response.headers
    )


def dataverse_router(sandbox: Sandbox) -> APIRouter:
    """The Web API under every accepted version segment."""
    router = APIRouter()

    @router.api_route("/api/data/{version}/{path:path}", methods=METHODS)
    @router.api_route("/api/data/{version}", methods=METHODS)
    async def web_api(request: Request, version: str, path: str = "") -> Response:
        if version not in ("v9.0", "v9.1", "v9.2"):
            return _to_response(
                ApiResponse.of_error(
                    DataverseError(
                        status=404,
                        code="0x80060888",
                        message=f"The version '{version}' is not supported.",
                    )
                )
            )
        try:
            caller = _authenticate(sandbox, request)
            sandbox.throttle.enter(caller.object_id)
        except DataverseError as error:
            return _to_response(ApiResponse.of_error(error))
        started = time.perf_counter()
        try:
            latency = request.scope.get("state", {}).get(LATENCY_KEY)
            if latency:
                await asyncio.sleep(latency / 1000)
            api_request = ApiRequest(
                method=request.method,
                path=path,
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.body(),
                base=f"{origin_of(request)}/api/data/{version}",
                user_id=caller.object_id,
            )
            async with sandbox.lock:
                response, events = await _run(sandbox, api_request)
            sandbox.webhooks.dispatch_async(events)
        finally:
            sandbox.throttle.leave(
                caller.object_id, elapsed_ms=(time.perf_counter() - started) * 1000
            )
        response.headers.update(sandbox.throttle.remaining(caller.object_id))
        return _to_response(response)

    return router


class _RollbackError(Exception):
    """Undo the whole request and answer with ``response``."""

    def __init__(self, response: ApiResponse) -> None:
        super().__init__(response.status)
        self.response = response


async def _run(sandbox: Sandbox, request: ApiRequest) -> tuple[ApiResponse, list[WriteEvent]]:
    """Execute in one transaction that also spans the synchronous webhook steps.

    The write commits only after every synchronous step answered 2xx; a failed step rolls it
    back and the caller gets the error, as in Dataverse. A failed single request rolls back
    too; a ``$batch`` keeps the parts that succeeded (each part is its own savepoint).
    """
    records = sandbox.records
    try:
        with records.store.transaction():
            response = _execute(sandbox, request)
            if response.status >= 400 and not _is_batch(request):  # noqa: PLR2004
                raise _RollbackError(response)
            events = records.drain()
            failed = await sandbox.webhooks.deliver_sync(events)
            if failed is not None:
                raise _RollbackError(ApiResponse.of_error(_sync_step_error(failed)))
    except _RollbackError as rollback:
        records.drain()
        return rollback.response, []
    return response, events


def _sync_step_error(delivery: Delivery) -> DataverseError:
    return DataverseError(
        status=400,
        code=ISV_ABORTED,
        message=f"The synchronous webhook step {delivery.step_id} failed calling "
        f"{delivery.url}: {delivery.error}. The operation was rolled back.",
    )


def _is_batch(request: ApiRequest) -> bool:
    return request.path.strip("/") == "$batch" and request.method == "POST"


def _execute(sandbox: Sandbox, request: ApiRequest) -> ApiResponse:
    if _is_batch(request):
        return run_batch(api=sandbox.api, request=request)
    return sandbox.api.handle(request)
