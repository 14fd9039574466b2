"""Caller authentication, compared in constant time; failures never say what was wrong."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

from pydantic import SecretStr

from isthmus.ingress.errors import ForbiddenError, UnauthenticatedError
from isthmus.ingress.settings import DataverseWebhookSettings, SapEventSettings


def _same(given: str, expected: SecretStr) -> bool:
    return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())


def check_dataverse(
    *, settings: DataverseWebhookSettings, headers: Mapping[str, str], query: Mapping[str, str]
) -> None:
    """Check the webhook's configured auth: ``code`` (WebhookKey), headers or query pairs.

    Raises:
        UnauthenticatedError: a configured credential is absent.
        ForbiddenError: a credential does not match.
    """
    source = headers if settings.auth_type == "HttpHeader" else query
    pairs = settings.auth_pairs
    if settings.auth_type == "WebhookKey":
        pairs = {"code": pairs.get("code", SecretStr(secrets.token_hex(16)))}
    results = []
    for name, expected in pairs.items():
        given = source.get(name.lower() if source is headers else name)
        if given is None:
            raise UnauthenticatedError("credentials required")
        results.append(_same(given, expected))
    if not all(results):
        raise ForbiddenError("credentials refused")


class TokenIssuer:
    """OAuth client-credentials tokens for Event Mesh (``tokenUrl`` = this service)."""

    def __init__(self, *, settings: SapEventSettings, key: bytes | None = None) -> None:
        self._settings = settings
        self._key = key or secrets.token_bytes(32)

    def issue(self, *, client_id: str, client_secret: str) -> tuple[str, int]:
        """A bearer token and its lifetime.

        Raises:
            UnauthenticatedError: OAuth is not configured or the client is unknown.
            ForbiddenError: the secret is wrong.
        """
        expected_id, secret = self._settings.oauth_client_id, self._settings.oauth_client_secret
        if expected_id is None or secret is None:
            raise UnauthenticatedError("credentials required")
        id_ok = hmac.compare_digest(client_id.encode(), expected_id.encode())
        if not (_same(client_secret, secret) and id_ok):
            raise ForbiddenError("credentials refused")
        lifetime = self._settings.token_lifetime_s
        payload = f"{client_id}.{int(time.time()) + lifetime}"
        return f"{payload}.{self._sign(payload)}", lifetime

    def valid(self, token: str) -> bool:
        """True for an unexpired token this issuer signed."""
        payload, _, signature = token.rpartition(".")
        _, _, expiry = payload.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(payload).encode()):
            return False
        return expiry.isdigit() and int(expiry) > time.time()

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()


def check_sap(
    *, settings: SapEventSettings, tokens: TokenIssuer, authorization: str | None
) -> None:
    """Check Basic credentials or a bearer token this service issued.

    Raises:
        UnauthenticatedError: no credentials.
        ForbiddenError: wrong credentials or an invalid token.
    """
    if not authorization:
        raise UnauthenticatedError("credentials required")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        if not tokens.valid(value.strip()):
            raise ForbiddenError("credentials refused")
        return
    if scheme.lower() != "basic":
        raise UnauthenticatedError("credentials required")
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ForbiddenError("credentials refused") from exc
    user_ok = hmac.compare_digest(user.encode(), settings.user.encode())
    if not (_same(password, settings.password) and user_ok):
        raise ForbiddenError("credentials refused")
