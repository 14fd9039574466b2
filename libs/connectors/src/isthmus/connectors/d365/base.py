"""The Dataverse client's HTTP core: one governed, traced, retried call to the Web API."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Self

import httpx

from isthmus.connectors.d365.auth import MsalAuth, TokenProvider, provider_for
from isthmus.connectors.d365.errors import DataverseTransportError, limit_hint, map_error
from isthmus.connectors.d365.settings import D365Settings
from isthmus.connectors.exchange import Exchanger, PooledClient
from isthmus.connectors.governor import ApiGovernor, governor_for
from isthmus.connectors.retry import call_with_retries

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


@dataclass(frozen=True)
class Record:
    """One row as Dataverse returned it, with its ETag."""

    data: dict[str, Any]
    etag: str | None


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The TLS context trusting the system CAs, or only ``ca_bundle`` when given."""
    return ssl.create_default_context(cafile=ca_bundle)


class DataverseBase(PooledClient):
    """Owns the ``httpx.AsyncClient`` and sends every call through governor, span and retries."""

    def __init__(
        self,
        *,
        settings: D365Settings,
        http: httpx.AsyncClient,
        governor: ApiGovernor | None,
        token_provider: TokenProvider | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self.governor = governor
        self.token_provider = token_provider
        self._exchanger = Exchanger(
            client=http,
            governor=governor,
            system="dataverse",
            map_error=map_error,
            transport_error=DataverseTransportError,
            limit_hint=limit_hint,
        )

    @classmethod
    def connect(
        cls,
        *,
        settings: D365Settings,
        governor: ApiGovernor | None = None,
        token_provider: TokenProvider | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Self:
        """Build a client for ``settings`` with the process-wide governor and token provider.

        Args:
            settings: environment, credential, limits and retry policy.
            governor: override the shared governor (tests, benchmarks).
            token_provider: override the shared token provider (tests).
            transport: override the HTTP transport (unit tests).
        """
        provider = token_provider or provider_for(settings=settings)
        ca = str(settings.ca_bundle) if settings.ca_bundle else None
        http = httpx.AsyncClient(
            base_url=settings.api_url,
            auth=MsalAuth(provider),
            headers=ODATA_HEADERS,
            timeout=settings.timeout_seconds,
            verify=ssl_context(ca),
            transport=transport,
            limits=httpx.Limits(max_connections=settings.limits.max_concurrency + 8),
        )
        shared = governor or governor_for(credential=settings.client_id, limits=settings.limits)
        return cls(settings=settings, http=http, governor=shared, token_provider=provider)

    async def _call(
        self,
        method: str,
        url: str,
        *,
        template: str,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        ok: Collection[int] | Callable[[httpx.Response], bool] = (200, 201, 204),
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send one logical call, retrying per the settings' policy; return the response.

        Raises:
            DataverseError: the mapped error of the last failed attempt.
        """
        request = self.http.build_request(
            method, url, json=json, content=content, headers=headers, params=params
        )

        async def attempt(retry_count: int) -> httpx.Response:
            response = await self._exchanger.exchange(
                request, template=template, retry_count=retry_count
            )
            accepted = ok(response) if callable(ok) else response.status_code in ok
            if not accepted:
                raise map_error(response)
            return response

        return await call_with_retries(attempt, policy=self.settings.retry, idempotent=idempotent)
