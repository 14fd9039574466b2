"""HTTP routes of the SAP APIs: OAuth token, OData services (with CSRF), journal entry SOAP."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response

from isthmus.sandbox_s4.errors import (
    AuthenticationError,
    CsrfTokenError,
    ODataError,
    SoapFaultError,
)
from isthmus.sandbox_s4.http import soap
from isthmus.sandbox_s4.http.auth import Principal
from isthmus.sandbox_s4.odata.wire import ODataRequest, ODataResponse

if TYPE_CHECKING:
    from isthmus.sandbox_s4.app import Sandbox

ODATA_PREFIX = "/sap/opu/odata/sap/"
MODIFYING = frozenset({"POST", "PUT", "PATCH", "MERGE", "DELETE"})
_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "MERGE", "DELETE"]
_LOGON_FAILED = (
    b"<html><head><title>Logon Error Message</title></head><body>"
    b"<h1>Logon failed</h1><p>Logon performed in system S4H, client 100 failed.</p></body></html>"
)


def unauthorized(sandbox: Sandbox) -> Response:
    """SAP's 401: an HTML logon error and a Basic challenge."""
    realm = (
        f"SAP NetWeaver Application Server [{sandbox.settings.system_id}/{sandbox.settings.client}]"
    )
    return Response(
        _LOGON_FAILED,
        401,
        {"www-authenticate": f'Basic realm="{realm}"', "content-type": "text/html; charset=utf-8"},
    )


def csrf_required(reason: str) -> Response:
    """SAP's 403 for a missing or invalid CSRF token."""
    return Response(
        reason, 403, {"x-csrf-token": "Required", "content-type": "text/plain; charset=utf-8"}
    )


def _raw_segments(request: Request, service_raw: str) -> list[str]:
    raw_path = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1")
    marker = f"{ODATA_PREFIX}{service_raw}"
    rest = raw_path.split("?", 1)[0][raw_path.find(marker) + len(marker) :]
    return [s for s in rest.split("/") if s]


def _to_response(result: ODataResponse, *, head: bool) -> Response:
    headers = {k: v for k, v in result.headers.items() if k != "content-type"}
    headers["sap-server"] = "true"
    return Response(
        b"" if head else result.body,
        result.status,
        headers,
        media_type=result.headers.get("content-type"),
    )


class ODataGateway:
    """Authentication, CSRF and dispatch of one OData request."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, request: Request, service: str) -> Response:
        sandbox = self.sandbox
        try:
            principal = sandbox.auth.authenticate(
                authorization=request.headers.get("authorization")
            )
        except AuthenticationError:
            return unauthorized(sandbox)
        service_name = unquote(service).split(";", 1)[0]
        cookies = dict(request.cookies)
        method = request.method.upper()
        if method in MODIFYING:
            try:
                sandbox.csrf.validate(
                    user=principal.user, token=request.headers.get("x-csrf-token"), cookies=cookies
                )
            except CsrfTokenError as error:
                return csrf_required(str(error))
        body = await request.body()
        if len(body) > sandbox.settings.max_body_bytes:
            return Response("Request entity too large", 413)
        odata = ODataRequest(
            method=method,
            service=service_name,
            segments=_raw_segments(request, service),
            params={k: v for k, v in request.query_params.items() if k != "sap-client"},
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            service_root=f"{str(request.base_url).rstrip('/')}{ODATA_PREFIX}{service}/",
            user=principal.user,
        )
        result = self._dispatch(odata, principal)
        response = _to_response(result, head=method == "HEAD")
        if (
            method in {"GET", "HEAD"}
            and (request.headers.get("x-csrf-token") or "").lower() == "fetch"
        ):
            self._issue_token(response, principal, cookies, secure=request.url.scheme == "https")
        return response

    def _dispatch(self, odata: ODataRequest, principal: Principal) -> ODataResponse:
        engine = self.sandbox.engine
        try:
            principal.check_service(odata.service)
            if odata.segments == ["$batch"] and odata.method == "POST":
                if odata.service not in engine.models:
                    return engine.handle(odata)  # answers "no service found"
                return self.sandbox.batch.run(request=odata)
        except ODataError as error:
            return engine.error_response(error, request=odata, wants_json=True)
        return engine.handle(odata)

    def _issue_token(
        self, response: Response, principal: Principal, cookies: dict[str, str], *, secure: bool
    ) -> None:
        issued = self.sandbox.csrf.fetch(user=principal.user, cookies=cookies)
        response.headers["x-csrf-token"] = issued.token
        for name, value in issued.cookies.items():
            response.set_cookie(
                name, value, path="/", secure=secure, httponly=name != "sap-usercontext"
            )


def router(sandbox: Sandbox) -> APIRouter:
    """Routes for `/sap/bc/sec/oauth2/token`, `/sap/opu/odata/sap/...` and the SOAP endpoint."""
    routes = APIRouter()
    gateway = ODataGateway(sandbox)

    @routes.post("/sap/bc/sec/oauth2/token", include_in_schema=False)
    async def token(request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        answer = sandbox.auth.issue_token(
            authorization=request.headers.get("authorization"), form=form
        )
        return Response(
            json.dumps(answer.body),
            answer.status,
            {"cache-control": "no-store", "pragma": "no-cache"},
            media_type="application/json",
        )

    @routes.api_route(ODATA_PREFIX + "{service}", methods=_METHODS, include_in_schema=False)
    @routes.api_route(
        ODATA_PREFIX + "{service}/{rest:path}", methods=_METHODS, include_in_schema=False
    )
    async def odata(request: Request, service: str) -> Response:
        return await gateway(request, service)

    @routes.get(soap.PATH, include_in_schema=False)
    async def wsdl() -> Response:
        from isthmus.sandbox_s4.app import metadata_dir  # noqa: PLC0415 - avoids an import cycle

        content = (metadata_dir() / "JournalEntryCreateRequestConfirmation_In.wsdl").read_bytes()
        return Response(content, media_type="text/xml")

    @routes.post(soap.PATH, include_in_schema=False)
    async def journal_entry(request: Request) -> Response:
        try:
            principal = sandbox.auth.authenticate(
                authorization=request.headers.get("authorization")
            )
        except AuthenticationError:
            return unauthorized(sandbox)
        body = await request.body()
        try:
            with sandbox.store.transaction():
                soap_ns, answer = sandbox.soap.handle(body=body, user=principal.user)
        except SoapFaultError as error:
            is12 = "soap+xml" in request.headers.get("content-type", "")
            soap_ns = soap.SOAP12 if is12 else soap.SOAP11
            return Response(
                soap.fault(soap_ns=soap_ns, message=str(error)), 500, media_type=_soap_type(soap_ns)
            )
        return Response(answer, 200, media_type=_soap_type(soap_ns))

    return routes


def _soap_type(soap_ns: str) -> str:
    return (
        "application/soap+xml; charset=utf-8"
        if soap_ns == soap.SOAP12
        else "text/xml; charset=utf-8"
    )
