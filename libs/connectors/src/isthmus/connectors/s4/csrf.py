"""A pool of CSRF sessions: each keeps its own token and the cookies the token is bound to.

SAP Gateway binds an ``X-CSRF-Token`` to the security session named by its cookies, so a token
is only valid together with the cookie jar it was fetched with. Each session of the pool is used
by one request at a time; a session's token and cookies change only while it is checked out.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie

import httpx

_FORBIDDEN = 403


@dataclass
class CsrfSession:
    """One token + cookie pair."""

    index: int
    token: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    def cookie_header(self) -> str:
        """The ``Cookie`` header carrying this session's cookies."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def absorb(self, response: httpx.Response) -> None:
        """Keep the cookies a response sets (the server may renew the session cookie)."""
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value

    def reset(self) -> None:
        """Forget token and cookies, so the next fetch opens a new security session."""
        self.token = None
        self.cookies.clear()


def csrf_required(response: httpx.Response) -> bool:
    """Whether the server refused the request for a missing, invalid or expired CSRF token."""
    return (
        response.status_code == _FORBIDDEN
        and response.headers.get("x-csrf-token", "").lower() == "required"
    )


class CsrfSessionPool:
    """A fixed number of CSRF sessions handed out one request at a time."""

    def __init__(self, *, size: int) -> None:
        self.size = size
        self._idle: asyncio.Queue[CsrfSession] = asyncio.Queue()
        for index in range(size):
            self._idle.put_nowait(CsrfSession(index=index))

    @asynccontextmanager
    async def session(self) -> AsyncIterator[CsrfSession]:
        """Check out a session for one modifying request."""
        session = await self._idle.get()
        try:
            yield session
        finally:
            self._idle.put_nowait(session)
