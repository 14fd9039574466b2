"""SAP Gateway CSRF protection: token fetch with session cookies, validation on writes."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from isthmus.sandbox_s4.errors import CsrfTokenError


@dataclass
class _Session:
    user: str
    token: str
    issued: float


@dataclass(frozen=True)
class IssuedToken:
    """A token and the cookies that bind it to the security session."""

    token: str
    cookies: dict[str, str]


class CsrfGuard:
    """Issues CSRF tokens bound to a session cookie and checks them on modifying requests."""

    def __init__(self, *, ttl_s: float, system_id: str, client: str) -> None:
        self.ttl_s = ttl_s
        self.session_cookie = f"SAP_SESSIONID_{system_id}_{client}"
        self.xsrf_cookie = f"sap-XSRF_{system_id}_{client}"
        self.client = client
        self._sessions: dict[str, _Session] = {}

    def fetch(self, *, user: str, cookies: dict[str, str]) -> IssuedToken:
        """Answer `X-CSRF-Token: Fetch`: reuse the caller's live session or open a new one."""
        session_id = cookies.get(self.session_cookie, "")
        session = self._sessions.get(session_id)
        if session is None or session.user != user or self._expired(session):
            session_id = secrets.token_urlsafe(32)
            session = _Session(user, secrets.token_urlsafe(18), time.monotonic())
            self._sessions[session_id] = session
        return IssuedToken(
            token=session.token,
            cookies={
                self.session_cookie: session_id,
                self.xsrf_cookie: f"{session.token}{time.strftime('%Y%m%d%H%M%S')}",
                "sap-usercontext": f"sap-client={self.client}",
            },
        )

    def _expired(self, session: _Session) -> bool:
        return time.monotonic() - session.issued > self.ttl_s

    def validate(self, *, user: str, token: str | None, cookies: dict[str, str]) -> None:
        """Check the token header against the session cookie.

        Raises:
            CsrfTokenError: missing token or cookie, another user's session, or expired.
        """
        if not token or token.lower() == "fetch":
            raise CsrfTokenError("CSRF token validation failed")
        session = self._sessions.get(cookies.get(self.session_cookie, ""))
        if (
            session is None
            or session.user != user
            or not secrets.compare_digest(session.token, token)
        ):
            raise CsrfTokenError("CSRF token validation failed")
        if self._expired(session):
            raise CsrfTokenError("CSRF token expired")

    def expire_all(self) -> None:
        """Drop every session (fault injection: CSRF expiry)."""
        self._sessions.clear()
