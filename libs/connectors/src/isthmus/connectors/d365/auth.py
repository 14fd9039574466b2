"""Entra ID client-credentials tokens from MSAL, applied to requests as an ``httpx.Auth``.

MSAL is synchronous, so token requests run in a worker thread. One lock per credential makes sure
one expiry causes exactly one token request, however many requests are waiting for it.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, Protocol

import httpx
import msal  # type: ignore[import-untyped]  # msal ships no type information
import requests
from msal.exceptions import MsalServiceError  # type: ignore[import-untyped]

from isthmus.connectors.d365.errors import (
    DataverseAuthenticationError,
    DataverseTransportError,
)
from isthmus.connectors.d365.settings import D365Settings
from isthmus.connectors.exchange import token_span

log = logging.getLogger(__name__)
_UNAUTHORIZED = 401


class ConfidentialApp(Protocol):
    """The part of ``msal.ConfidentialClientApplication`` the provider uses."""

    token_cache: msal.TokenCache

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]: ...


AppFactory = Callable[[D365Settings], ConfidentialApp]


def msal_http_session(settings: D365Settings) -> requests.Session:
    """The HTTP session MSAL uses: it trusts ``ca_bundle`` when one is configured.

    ``verify`` is passed on every request because requests lets ``REQUESTS_CA_BUNDLE`` from the
    environment override a session-level setting.
    """
    session = requests.Session()
    verify: str | bool = str(settings.ca_bundle) if settings.ca_bundle else True
    session.request = functools.partial(  # type: ignore[method-assign]  # pin verify/timeout
        session.request, verify=verify, timeout=settings.timeout_seconds
    )
    adapter = requests.adapters.HTTPAdapter(max_retries=1)
    session.mount("https://", adapter)
    return session


def build_msal_app(settings: D365Settings) -> ConfidentialApp:
    """A ``ConfidentialClientApplication`` for ``settings`` (performs authority discovery)."""
    app: ConfidentialApp = msal.ConfidentialClientApplication(
        settings.client_id,
        client_credential=settings.client_secret.get_secret_value(),
        authority=settings.authority,
        instance_discovery=settings.instance_discovery,
        http_client=msal_http_session(settings),
        token_cache=msal.TokenCache(),
    )
    return app


class TokenProvider:
    """Holds one MSAL app and token per credential; refreshes ahead of expiry.

    Attributes:
        token_requests: how many times the token endpoint was asked (for tests and metrics).
    """

    def __init__(
        self,
        *,
        settings: D365Settings,
        app_factory: AppFactory = build_msal_app,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._app_factory = app_factory
        self._clock = clock
        self._app: ConfidentialApp | None = None
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = float("-inf")
        self.token_requests = 0

    async def token(self) -> str:
        """A valid access token, fetched when none is held or the held one is about to expire.

        Raises:
            DataverseAuthenticationError: Entra ID refused the credential.
            DataverseTransportError: the token endpoint could not be reached.
        """
        token = self._token
        if token is not None and self._clock() < self._refresh_at:
            return token
        return await asyncio.to_thread(self._acquire, None)

    async def refresh(self, *, stale: str) -> str:
        """A new token after the target refused ``stale`` (unless another caller already did)."""
        return await asyncio.to_thread(self._acquire, stale)

    def _acquire(self, stale: str | None) -> str:
        with self._lock:
            token = self._token
            fresh = token is not None and token != stale and self._clock() < self._refresh_at
            if fresh and token is not None:
                return token
            app = self._ensure_app()
            if stale is not None:
                _forget_cached_tokens(app)
            return self._request(app)

    def _ensure_app(self) -> ConfidentialApp:
        if self._app is None:
            try:
                self._app = self._app_factory(self._settings)
            except ValueError as exc:
                raise DataverseAuthenticationError(f"authority rejected: {exc}") from exc
            except requests.exceptions.SSLError as exc:
                raise DataverseAuthenticationError("authority TLS verification failed") from exc
            except requests.RequestException as exc:
                message = f"authority unreachable: {type(exc).__name__}"
                raise DataverseTransportError(message, request_sent=False) from exc
            except MsalServiceError as exc:  # the discovery endpoint answered an error status
                raise DataverseTransportError(
                    f"authority answered {exc}", request_sent=False
                ) from exc
        return self._app

    def _request(self, app: ConfidentialApp) -> str:
        started = self._clock()
        self.token_requests += 1
        url = f"{self._settings.authority}/oauth2/v2.0/token"
        try:
            with token_span(system="entra-id", url=url):
                result = app.acquire_token_for_client(scopes=[self._settings.token_scope])
        except requests.exceptions.SSLError as exc:
            raise DataverseAuthenticationError("token endpoint TLS verification failed") from exc
        except requests.RequestException as exc:
            message = f"token endpoint unreachable: {type(exc).__name__}"
            raise DataverseTransportError(message, request_sent=False) from exc
        except MsalServiceError as exc:  # MSAL raises for a 5xx or 429 of the token endpoint
            raise DataverseTransportError(
                f"token endpoint answered {exc}", request_sent=False
            ) from exc
        if "access_token" not in result:
            code = str(result.get("error", "unknown"))
            description = str(result.get("error_description", "")).split("\r\n")[0]
            raise DataverseAuthenticationError(description or code, code=code)
        lifetime = float(result.get("expires_in", 3599))
        margin = min(self._settings.token_refresh_margin_seconds, lifetime / 10)
        self._token = str(result["access_token"])
        self._refresh_at = started + lifetime - margin
        log.debug("access token acquired (source %s)", result.get("token_source", "?"))
        return self._token


def _forget_cached_tokens(app: ConfidentialApp) -> None:
    cache = app.token_cache
    for entry in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
        cache.remove_at(entry)


class MsalAuth(httpx.Auth):
    """Bearer tokens from a ``TokenProvider``; one forced refresh when the target answers 401."""

    def __init__(self, provider: TokenProvider) -> None:
        self._provider = provider

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Not supported: the connectors are asynchronous."""
        raise RuntimeError("MsalAuth works with httpx.AsyncClient only")
        yield request  # pragma: no cover - makes this a generator

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Add the token; on 401 fetch a new one once and resend."""
        token = await self._provider.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == _UNAUTHORIZED:
            await response.aread()
            token = await self._provider.refresh(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


_PROVIDERS: dict[tuple[str, str, str], TokenProvider] = {}


def provider_for(*, settings: D365Settings) -> TokenProvider:
    """The process-wide token provider of the settings' credential (one MSAL app each)."""
    secret = hashlib.sha256(settings.client_secret.get_secret_value().encode()).hexdigest()
    key = (settings.authority, settings.client_id, secret)
    provider = _PROVIDERS.get(key)
    if provider is None:
        provider = _PROVIDERS[key] = TokenProvider(settings=settings)
    return provider
