"""S/4HANA credentials: Basic, OAuth client credentials (``httpx.Auth``) and X.509 TLS."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from isthmus.connectors.exchange import token_span
from isthmus.connectors.s4.errors import S4AuthenticationError, S4TransportError
from isthmus.connectors.s4.settings import S4Settings

_UNAUTHORIZED = 401


class OAuthClientCredentials(httpx.Auth):
    """Bearer tokens from the OAuth token endpoint (client id/secret sent as HTTP Basic).

    One lock makes one expiry cause one token request; a 401 forces one refresh and a resend.
    """

    def __init__(
        self,
        *,
        settings: S4Settings,
        verify: ssl.SSLContext,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if settings.client_id is None or settings.client_secret is None:
            raise ValueError("OAuth needs client_id and client_secret")
        self._settings = settings
        self._verify = verify
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = float("-inf")
        self._lock = asyncio.Lock()
        self.token_requests = 0

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Not supported: the connectors are asynchronous."""
        raise RuntimeError("OAuthClientCredentials works with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the bearer token; on 401 refresh it once and resend."""
        token = await self._current(stale=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            await response.aread()
            token = await self._current(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    async def _current(self, *, stale: str | None) -> str:
        async with self._lock:
            token = self._token
            if token is not None and token != stale and self._clock() < self._refresh_at:
                return token
            return await self._fetch()

    async def _fetch(self) -> str:
        settings = self._settings
        assert settings.client_id is not None  # noqa: S101 - checked in __init__
        assert settings.client_secret is not None  # noqa: S101 - checked in __init__
        form = {"grant_type": "client_credentials"}
        if settings.oauth_scope:
            form["scope"] = settings.oauth_scope
        params = {"sap-client": settings.sap_client} if settings.sap_client else None
        auth = httpx.BasicAuth(settings.client_id, settings.client_secret.get_secret_value())
        started = self._clock()
        self.token_requests += 1
        try:
            with token_span(system="s4hana", url=settings.token_url) as span:
                async with httpx.AsyncClient(verify=self._verify, timeout=30) as client:
                    response = await client.post(
                        settings.token_url, data=form, auth=auth, params=params
                    )
                span.set_attribute("http.response.status_code", response.status_code)
        except httpx.TransportError as exc:
            message = f"token endpoint unreachable: {type(exc).__name__}"
            raise S4TransportError(message, request_sent=False) from exc
        if response.status_code != httpx.codes.OK:
            raise S4AuthenticationError("OAuth token refused", status=response.status_code)
        body = response.json()
        lifetime = float(body.get("expires_in", 3600))
        self._token = str(body["access_token"])
        self._refresh_at = started + lifetime - min(60.0, lifetime / 10)
        return self._token


def tls_context(settings: S4Settings) -> ssl.SSLContext:
    """The TLS context: the configured CA (or the system's), plus the X.509 client certificate."""
    context = ssl.create_default_context(
        cafile=str(settings.ca_bundle) if settings.ca_bundle else None
    )
    if settings.auth == "x509":
        if settings.client_cert is None:
            raise ValueError("X.509 authentication needs client_cert")
        key = str(settings.client_key) if settings.client_key else None
        context.load_cert_chain(certfile=str(settings.client_cert), keyfile=key)
    return context


def http_auth(settings: S4Settings, verify: ssl.SSLContext) -> httpx.Auth | None:
    """The ``httpx.Auth`` for the configured method (None for X.509: the TLS layer carries it).

    Raises:
        ValueError: the settings lack what the method needs.
    """
    if settings.auth == "basic":
        if settings.user is None or settings.password is None:
            raise ValueError("Basic authentication needs user and password")
        return httpx.BasicAuth(settings.user, settings.password.get_secret_value())
    if settings.auth == "oauth":
        return OAuthClientCredentials(settings=settings, verify=verify)
    return None
