"""Who may publish to which topic: OAuth2 bearer tokens checked against the issuer's JWKS, or
API keys; a role per topic family.

A refusal says why (RFC 6750 ``error_description`` style): a missing credential is a 401, a
credential that does not verify is a 401 with ``invalid_token``, a valid credential without the
topic's role is a 403.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import jwt

from isthmus.ingress.errors import ForbiddenError, UnauthenticatedError, UnavailableError
from isthmus.ingress.settings import PublishAuthSettings

logger = logging.getLogger(__name__)

_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]
_REFRESH_S = 3600.0
_UNKNOWN_KID_REFRESH_S = 30.0
_CHALLENGE = 'Bearer realm="isthmus"'


@dataclass(frozen=True)
class Publisher:
    """An authenticated caller of the publish API."""

    name: str
    method: Literal["oauth", "api-key"]
    roles: frozenset[str]


class InvalidCredentialError(UnauthenticatedError):
    """A credential was presented and does not verify (expired, wrong audience, bad key)."""

    def __init__(self, message: str) -> None:
        super().__init__(
            message,
            challenge=f'Bearer realm="isthmus", error="invalid_token", '
            f'error_description="{message}"',
        )


class SigningKeys:
    """The issuer's public keys, fetched from its JWKS URL.

    Refreshed every hour, and at once (at most every 30 s) when a token names a key id the set
    does not hold, which is how issuers roll their keys.
    """

    def __init__(self, *, url: str, client: httpx.AsyncClient) -> None:
        self._url = url
        self._client = client
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def get(self, kid: str | None) -> jwt.PyJWK:
        """The key with this id (the only key when the token names none).

        Raises:
            InvalidCredentialError: the issuer does not hold such a key.
            UnavailableError: the JWKS URL could not be read.
        """
        now = time.monotonic()
        stale = now - self._fetched > _REFRESH_S
        unknown = kid not in self._keys and now - self._fetched > _UNKNOWN_KID_REFRESH_S
        if stale or (unknown and kid is not None) or not self._keys:
            await self._refresh()
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        key = self._keys.get(kid or "")
        if key is None:
            raise InvalidCredentialError("the token's signing key is not one of the issuer's")
        return key

    async def _refresh(self) -> None:
        async with self._lock:
            if time.monotonic() - self._fetched < 1.0 and self._keys:
                return
            try:
                response = await self._client.get(self._url)
                response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json()).keys
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                logger.warning("signing keys not fetched from %s: %s", self._url, exc)
                if not self._keys:
                    msg = "the token issuer's signing keys are unreachable"
                    raise UnavailableError(msg) from exc
                return
            self._keys = {key.key_id or "": key for key in keys}
            self._fetched = time.monotonic()


class PublisherAuth:
    """Authenticates publish requests and decides which topics each publisher may write."""

    def __init__(self, *, settings: PublishAuthSettings, client: httpx.AsyncClient | None) -> None:
        self._settings = settings
        self._keys = (
            SigningKeys(url=settings.jwks_url, client=client)
            if settings.jwks_url and client is not None
            else None
        )

    @property
    def configured(self) -> bool:
        """False when no credential could ever pass (every publish is refused)."""
        return self._keys is not None or bool(self._settings.api_keys)

    def required_role(self, topic: str) -> str | None:
        """The role a publisher needs for ``topic``; None when no pattern opens it."""
        for pattern, role in self._settings.topic_roles.items():
            if fnmatch.fnmatchcase(topic, pattern):
                return role
        return None

    async def authenticate(self, headers: Any) -> Publisher:
        """The caller behind ``Authorization: Bearer`` or ``X-API-Key``.

        Raises:
            UnauthenticatedError: no credential, or one that does not verify (401).
            UnavailableError: the issuer's keys cannot be fetched (503, retry).
        """
        if not self.configured:
            raise UnauthenticatedError(
                "the publish API has no credentials configured", challenge=_CHALLENGE
            )
        api_key = headers.get("x-api-key")
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if api_key is not None:
            return self._api_key(api_key)
        if scheme.lower() == "bearer" and credential.strip():
            return await self._token(credential.strip())
        raise UnauthenticatedError(
            "credentials required: a bearer token or an X-API-Key header", challenge=_CHALLENGE
        )

    def authorize(self, publisher: Publisher, topic: str, role: str) -> None:
        """Raises ForbiddenError unless ``publisher`` holds ``role`` (the topic's)."""
        if role not in publisher.roles:
            raise ForbiddenError(
                f"publisher {publisher.name!r} lacks the role {role!r} that topic {topic!r} needs"
            )

    def _api_key(self, given: str) -> Publisher:
        found: Publisher | None = None
        for name, key in self._settings.api_keys.items():
            # Every key is compared, so the time taken says nothing about which one matched.
            if hmac.compare_digest(given.encode(), key.secret.get_secret_value().encode()):
                found = Publisher(name=name, method="api-key", roles=frozenset(key.roles))
        if found is None:
            raise InvalidCredentialError("the API key is not valid")
        return found

    async def _token(self, token: str) -> Publisher:
        if self._keys is None:
            raise InvalidCredentialError("bearer tokens are not accepted here; use an API key")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidCredentialError("the bearer token is not a JWT") from exc
        key = await self._keys.get(header.get("kid"))
        settings = self._settings
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=_ALGORITHMS,
                audience=list(settings.audiences) or None,
                issuer=list(settings.issuers) or None,
                leeway=settings.leeway_s,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidCredentialError("the bearer token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidCredentialError("the bearer token is for another audience") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidCredentialError("the bearer token is from an issuer not trusted") from exc
        except jwt.PyJWTError as exc:
            raise InvalidCredentialError(f"the bearer token is not valid: {exc}") from exc
        roles = {str(r) for r in claims.get("roles", []) if isinstance(r, str)}
        scopes = claims.get("scp")
        if isinstance(scopes, str):
            roles |= set(scopes.split())
        name = str(claims.get("appid") or claims.get("azp") or claims.get("sub") or "unknown")
        return Publisher(name=name, method="oauth", roles=frozenset(roles))
