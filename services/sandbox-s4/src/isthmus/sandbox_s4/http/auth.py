"""Communication-user Basic auth and OAuth 2.0 client credentials (`/sap/bc/sec/oauth2/token`)."""

from __future__ import annotations

import base64
import binascii
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from isthmus.sandbox_s4.errors import AuthenticationError, ForbiddenError

_ALGORITHM = "HS256"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the communication user and, for OAuth, the granted scopes."""

    user: str
    scopes: frozenset[str] | None = None

    def check_service(self, service: str) -> None:
        """Refuse a service outside the token's scopes.

        Raises:
            ForbiddenError: the token was granted for other services only.
        """
        if self.scopes and f"{service}_0001" not in self.scopes:
            raise ForbiddenError(f"No authorization to access Service '{service}_0001'")


@dataclass(frozen=True)
class TokenAnswer:
    """Status and JSON body of a token endpoint response."""

    status: int
    body: dict[str, Any]


def _basic(authorization: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise AuthenticationError("malformed Basic credentials") from exc
    user, sep, password = decoded.partition(":")
    if not sep:
        raise AuthenticationError("malformed Basic credentials")
    return user, password


class Authenticator:
    """Checks credentials and issues signed bearer tokens."""

    def __init__(
        self,
        *,
        users: dict[str, str],
        clients: dict[str, tuple[str, str]],
        signing_key: str,
        token_ttl_s: int,
    ) -> None:
        self.users = users
        self.clients = clients  # client id -> (secret, communication user)
        self.signing_key = signing_key
        self.token_ttl_s = token_ttl_s
        self.not_before = 0.0

    def _password_ok(self, user: str, password: str) -> bool:
        expected = self.users.get(user)
        return expected is not None and hmac.compare_digest(expected, password)

    def authenticate(self, *, authorization: str | None) -> Principal:
        """The caller of an API request.

        Raises:
            AuthenticationError: missing, malformed, wrong or expired credentials.
        """
        if not authorization:
            raise AuthenticationError("no credentials")
        if authorization[:6].lower() == "basic ":
            user, password = _basic(authorization)
            if not self._password_ok(user, password):
                raise AuthenticationError("wrong user or password")
            return Principal(user)
        if authorization[:7].lower() == "bearer ":
            return self._bearer(authorization[7:].strip())
        raise AuthenticationError("unsupported authorization scheme")

    def _bearer(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self.signing_key, algorithms=[_ALGORITHM])
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid or expired token") from exc
        if float(claims.get("iat", 0)) < self.not_before:
            raise AuthenticationError("token revoked")
        scopes = frozenset(str(claims.get("scope", "")).split()) or None
        return Principal(str(claims["user_name"]), scopes)

    def revoke_all(self) -> None:
        """Invalidate every token issued so far (fault injection: token expiry)."""
        self.not_before = time.time() + 0.001

    def _client(self, authorization: str | None, form: dict[str, str]) -> tuple[str, str] | None:
        if authorization and authorization[:6].lower() == "basic ":
            try:
                client_id, secret = _basic(authorization)
            except AuthenticationError:
                return None
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        known = self.clients.get(client_id)
        if known is None or not hmac.compare_digest(known[0], secret):
            return None
        return client_id, known[1]

    def issue_token(self, *, authorization: str | None, form: dict[str, str]) -> TokenAnswer:
        """Answer a client-credentials token request (RFC 6749 bodies)."""
        client = self._client(authorization, form)
        if client is None:
            return TokenAnswer(
                401, {"error": "invalid_client", "error_description": "Bad credentials"}
            )
        if form.get("grant_type") != "client_credentials":
            return TokenAnswer(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {form.get('grant_type')}",
                },
            )
        now = time.time()
        scope = form.get("scope", "").strip()
        claims = {
            "sub": client[0],
            "client_id": client[0],
            "user_name": client[1],
            "scope": scope,
            "iat": now,
            "exp": int(now + self.token_ttl_s),
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(claims, self.signing_key, algorithm=_ALGORITHM)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_s}
        if scope:
            body["scope"] = scope
        return TokenAnswer(200, body)
