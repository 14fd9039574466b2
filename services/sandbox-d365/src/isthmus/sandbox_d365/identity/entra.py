"""Entra ID emulation: discovery documents, signing keys and the client-credentials token."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from typing import Any
from urllib.parse import unquote_plus

from fastapi import Request

from isthmus.sandbox_d365.errors import EntraError
from isthmus.sandbox_d365.identity.apps import App, AppRegistry
from isthmus.sandbox_d365.identity.tokens import TokenService
from isthmus.sandbox_d365.settings import SandboxSettings


def origin_of(request: Request) -> str:
    """``https://host:port`` as the caller addressed the sandbox."""
    return f"{request.url.scheme}://{request.url.netloc}"


def entra_error_body(error: EntraError) -> dict[str, Any]:
    """The JSON body Entra ID sends with an OAuth error."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace_id, correlation_id = str(uuid.uuid4()), str(uuid.uuid4())
    description = (
        f"AADSTS{error.aadsts}: {error.description}\r\nTrace ID: {trace_id}\r\n"
        f"Correlation ID: {correlation_id}\r\nTimestamp: {now}"
    )
    return {
        "error": error.error,
        "error_description": description,
        "error_codes": [error.aadsts],
        "timestamp": now,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={error.aadsts}",
    }


class EntraEmulator:
    """Checks token requests and answers them as Entra ID does."""

    def __init__(self, *, settings: SandboxSettings, tokens: TokenService, apps: AppRegistry):
        self._settings = settings
        self._tokens = tokens
        self._apps = apps
        self.token_lifetime_s = settings.token_lifetime_s

    @property
    def lifetime_s(self) -> int:
        """Lifetime of the tokens issued now (admin-adjustable)."""
        return self.token_lifetime_s

    def known_tenant(self, tenant: str) -> bool:
        """True for the tenant id or its verified domain."""
        return tenant.lower() in {self._settings.tenant_id, self._settings.tenant_domain.lower()}

    def resources(self, origin: str) -> list[str]:
        """Resource ids whose ``/.default`` scope gets a Dataverse token."""
        return [self._settings.org_url.rstrip("/"), origin]

    def issue(self, *, tenant: str, form: dict[str, str], basic: str | None, origin: str) -> str:
        """A token for a valid client-credentials request.

        Raises:
            EntraError: the request is invalid, with the AADSTS code Entra uses.
        """
        if not self.known_tenant(tenant):
            raise EntraError(
                status=400,
                error="invalid_request",
                aadsts=90002,
                description=f"Tenant '{tenant}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud.",
            )
        if form.get("grant_type") != "client_credentials":
            raise EntraError(
                status=400,
                error="unsupported_grant_type",
                aadsts=70003,
                description="The app requested an unsupported grant type "
                f"'{form.get('grant_type', '')}'.",
            )
        app = self._authenticate(tenant, form, basic)
        audience = self._audience(tenant, form.get("scope"), origin)
        api = audience.lower() in {r.lower() for r in self._settings.api_resources}
        return self._tokens.issue(
            app_id=app.client_id,
            audience=audience,
            lifetime_s=self.token_lifetime_s,
            roles=app.roles if api else (),
        )

    def _authenticate(self, tenant: str, form: dict[str, str], basic: str | None) -> App:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        if basic is not None:
            client_id, secret = _basic_credentials(basic)
        if not client_id:
            raise _missing("client_id")
        app = self._apps.get(client_id)
        if app is None:
            raise EntraError(
                status=400,
                error="unauthorized_client",
                aadsts=700016,
                description=f"Application with identifier '{client_id}' was not found in the "
                f"directory '{tenant}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You may have sent your authentication request to the wrong tenant.",
            )
        if not secret:
            raise EntraError(
                status=401,
                error="invalid_client",
                aadsts=7000218,
                description="The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
            )
        if not app.secret_matches(secret):
            raise EntraError(
                status=401,
                error="invalid_client",
                aadsts=7000215,
                description="Invalid client secret provided. Ensure the secret being sent in the "
                "request is the client secret value, not the client secret ID, for a secret "
                f"added to app '{app.client_id}'.",
            )
        return app

    def _audience(self, tenant: str, scope: str | None, origin: str) -> str:
        if not scope:
            raise _missing("scope")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise EntraError(
                status=400,
                error="invalid_scope",
                aadsts=70011,
                description="The provided request must include a 'scope' input parameter. The "
                f"provided value for the input parameter 'scope' is not valid. The scope "
                f"{scope} is not valid.",
            )
        resource = scopes[0].removesuffix("/.default").rstrip("/")
        known = [*self.resources(origin), *self._settings.api_resources]
        if resource.lower() not in {r.lower() for r in known}:
            raise EntraError(
                status=400,
                error="invalid_resource",
                aadsts=500011,
                description=f"The resource principal named {resource} was not found in the "
                f"tenant named {tenant}. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any user in "
                "the tenant. You might have sent your authentication request to the wrong tenant.",
            )
        return resource


def _missing(parameter: str) -> EntraError:
    return EntraError(
        status=400,
        error="invalid_request",
        aadsts=900144,
        description=f"The request body must contain the following parameter: '{parameter}'.",
    )


def _basic_credentials(header: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(header, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise EntraError(
            status=401,
            error="invalid_client",
            aadsts=7000215,
            description="Invalid client secret provided.",
        ) from exc
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)
