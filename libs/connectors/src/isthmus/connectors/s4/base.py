"""The S/4HANA client's HTTP core: governed, traced, retried calls with CSRF handling."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any, Self

import httpx

from isthmus.connectors.exchange import Exchanger, PooledClient
from isthmus.connectors.governor import ApiGovernor, governor_for
from isthmus.connectors.retry import call_with_retries
from isthmus.connectors.s4.auth import http_auth, tls_context
from isthmus.connectors.s4.csrf import CsrfSession, CsrfSessionPool, csrf_required
from isthmus.connectors.s4.errors import CsrfTokenError, S4TransportError, map_error
from isthmus.connectors.s4.settings import S4Settings

V2_HEADERS = {"Accept": "application/json", "DataServiceVersion": "2.0"}


@dataclass(frozen=True)
class Call:
    """One logical request: what to send and what counts as success."""

    method: str
    url: str
    template: str
    json: Any = None
    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    ok: Collection[int] = (200, 201, 202, 204)
    idempotent: bool = True
    csrf_service: str | None = None
    """Set for modifying calls: the service whose root the CSRF token is fetched from."""


def _no_cookie_jar() -> CookieJar:
    # Cookies live in the CSRF sessions; a shared jar would mix the sessions' cookies.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


class S4Base(PooledClient):
    """Owns the ``httpx.AsyncClient`` and the CSRF pool; every call goes through ``_call``."""

    def __init__(
        self, *, settings: S4Settings, http: httpx.AsyncClient, governor: ApiGovernor | None
    ) -> None:
        self.settings = settings
        self.http = http
        self.governor = governor
        self.csrf = CsrfSessionPool(size=settings.csrf_sessions)
        self._exchanger = Exchanger(
            client=http,
            governor=governor,
            system="s4hana",
            map_error=map_error,
            transport_error=S4TransportError,
        )

    @classmethod
    def connect(
        cls,
        *,
        settings: S4Settings,
        governor: ApiGovernor | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Self:
        """Build a client for ``settings`` with the process-wide governor of its credential.

        Raises:
            ValueError: the settings lack what the chosen authentication needs.
        """
        context = tls_context(settings)
        headers = dict(V2_HEADERS)
        headers["sap-language"] = settings.language
        http = httpx.AsyncClient(
            auth=http_auth(settings, context),
            headers=headers,
            verify=context,
            timeout=settings.timeout_seconds,
            transport=transport,
            cookies=_no_cookie_jar(),
            limits=httpx.Limits(max_connections=settings.limits.max_concurrency + 8),
        )
        shared = governor or governor_for(
            credential=settings.credential_name, limits=settings.limits
        )
        return cls(settings=settings, http=http, governor=shared)

    def _params(self, params: Mapping[str, str] | None) -> dict[str, str]:
        merged = dict(params or {})
        if self.settings.sap_client:
            merged.setdefault("sap-client", self.settings.sap_client)
        return merged

    async def _call(self, call: Call) -> httpx.Response:
        """Send ``call`` with retries per the settings' policy.

        Raises:
            S4Error: the mapped error of the last failed attempt.
        """

        async def attempt(retry_count: int) -> httpx.Response:
            if call.csrf_service is None:
                response = await self._send(call, retry_count, None)
            else:
                async with self.csrf.session() as session:
                    response = await self._send_protected(call, retry_count, session)
            if response.status_code not in call.ok:
                raise map_error(response)
            return response

        return await call_with_retries(
            attempt, policy=self.settings.retry, idempotent=call.idempotent
        )

    async def _send_protected(
        self, call: Call, retry_count: int, session: CsrfSession
    ) -> httpx.Response:
        assert call.csrf_service is not None  # noqa: S101 - only called for protected calls
        for refetched in (False, True):
            if session.token is None:
                await self._fetch_token(call.csrf_service, session, retry_count)
            response = await self._send(call, retry_count, session)
            session.absorb(response)
            if not csrf_required(response):
                return response
            session.reset()
            if refetched:
                raise CsrfTokenError("CSRF token refused right after fetching it", status=403)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _fetch_token(self, service: str, session: CsrfSession, retry_count: int) -> None:
        headers = {"X-CSRF-Token": "Fetch"}
        if session.cookies:
            headers["Cookie"] = session.cookie_header()
        request = self.http.build_request(
            "HEAD", self.settings.service_url(service), headers=headers, params=self._params(None)
        )
        template = f"{self.settings.odata_root}/{service}/"
        response = await self._exchanger.exchange(
            request, template=template, retry_count=retry_count
        )
        if response.status_code >= 400:  # noqa: PLR2004 - HTTP error statuses
            raise map_error(response)
        session.absorb(response)
        token = response.headers.get("x-csrf-token")
        if not token:
            raise CsrfTokenError("no CSRF token in the fetch answer", status=response.status_code)
        session.token = token

    async def _send(
        self, call: Call, retry_count: int, session: CsrfSession | None
    ) -> httpx.Response:
        headers = dict(call.headers or {})
        if session is not None and session.token is not None:
            headers["X-CSRF-Token"] = session.token
            headers["Cookie"] = session.cookie_header()
        # Merge, never replace: a __next link already carries $filter and $skiptoken.
        url = httpx.URL(call.url).copy_merge_params(self._params(call.params))
        request = self.http.build_request(
            call.method, url, json=call.json, content=call.content, headers=headers
        )
        return await self._exchanger.exchange(
            request, template=call.template, retry_count=retry_count
        )
