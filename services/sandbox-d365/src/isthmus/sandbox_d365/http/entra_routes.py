"""HTTP routes of the Entra ID emulator (discovery, keys, token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from isthmus.sandbox_d365.errors import EntraError
from isthmus.sandbox_d365.identity.entra import EntraEmulator, entra_error_body, origin_of
from isthmus.sandbox_d365.identity.tokens import TokenService

_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def openid_configuration(origin: str, tenant_id: str) -> dict[str, Any]:
    """The tenant's OpenID Connect discovery document, pointing at this sandbox."""
    base = f"{origin}/{tenant_id}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"https://login.microsoftonline.com/{tenant_id}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "tid", "ver"],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


def entra_router(*, entra: EntraEmulator, tokens: TokenService, tenant_id: str) -> APIRouter:
    """Routes for ``/{tenant}/...`` and ``/common/discovery/instance``."""
    router = APIRouter()

    @router.get("/common/discovery/instance")
    async def instance_discovery(
        request: Request, authorization_endpoint: str = ""
    ) -> JSONResponse:
        return _instance_discovery(request, authorization_endpoint)

    @router.get("/{tenant}/v2.0/.well-known/openid-configuration")
    async def openid(request: Request, tenant: str) -> JSONResponse:
        if not entra.known_tenant(tenant):
            error = EntraError(
                status=400,
                error="invalid_tenant",
                aadsts=90002,
                description=f"Tenant '{tenant}' not found. Check to make sure you have the "
                "correct tenant ID and are signing into the correct cloud.",
            )
            return JSONResponse(entra_error_body(error), status_code=400)
        return JSONResponse(openid_configuration(origin_of(request), tenant_id))

    @router.get("/{tenant}/discovery/v2.0/keys")
    async def keys(tenant: str) -> JSONResponse:
        return JSONResponse(tokens.jwks())

    @router.post("/{tenant}/oauth2/v2.0/token")
    async def token(request: Request, tenant: str) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        authorization = request.headers.get("authorization", "")
        basic = authorization[6:].strip() if authorization.lower().startswith("basic ") else None
        try:
            access_token = entra.issue(
                tenant=tenant, form=form, basic=basic, origin=origin_of(request)
            )
        except EntraError as error:
            return JSONResponse(entra_error_body(error), error.status, headers=_NO_STORE)
        lifetime = entra.lifetime_s
        body = {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access_token,
        }
        return JSONResponse(body, headers=_NO_STORE)

    return router


def _instance_discovery(request: Request, authorization_endpoint: str) -> JSONResponse:
    """Instance discovery as MSAL calls it for hosts it does not know."""
    origin = origin_of(request)
    parts = urlsplit(authorization_endpoint)
    # MSAL sends the authority host without its port, so only the host name is compared.
    if parts.scheme != "https" or parts.hostname != request.url.hostname:
        return JSONResponse(
            {
                "error": "invalid_instance",
                "error_description": "AADSTS50049: Unknown or invalid instance.",
                "error_codes": [50049],
            },
            status_code=400,
        )
    tenant = parts.path.strip("/").split("/")[0] or "common"
    host = request.url.netloc
    return JSONResponse(
        {
            "tenant_discovery_endpoint": f"{origin}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
        }
    )
