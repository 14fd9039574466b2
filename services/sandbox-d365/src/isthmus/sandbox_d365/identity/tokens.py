"""Signing and validating the RS256 access tokens the Entra emulator issues."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from isthmus.sandbox_d365.business.store import Store

_KEY_META = "signing_key"


@dataclass(frozen=True)
class Caller:
    """Who a valid token belongs to."""

    app_id: str
    object_id: str
    tenant_id: str


class TokenRejectedError(Exception):
    """The bearer token is missing, malformed, expired or revoked; ``reason`` says which."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


def object_id_of(app_id: str) -> str:
    """The service principal object id of an app, stable per app id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"isthmus-sandbox-sp:{app_id}"))


class TokenService:
    """Issues and checks tokens; the key lives in the store so tokens survive a restart."""

    def __init__(self, *, store: Store, tenant_id: str) -> None:
        self._tenant_id = tenant_id
        pem = store.meta(_KEY_META)
        if pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()
            store.set_meta(_KEY_META, pem)
        loaded = serialization.load_pem_private_key(pem.encode(), password=None)
        assert isinstance(loaded, rsa.RSAPrivateKey)  # noqa: S101 - we wrote this key ourselves
        self._key = loaded
        self._public = loaded.public_key()
        der = self._public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.key_id = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode().rstrip("=")  # noqa: S324
        self.not_before = 0.0

    def issue(
        self, *, app_id: str, audience: str, lifetime_s: int, roles: tuple[str, ...] = ()
    ) -> str:
        """A signed v1-style app token for ``audience``, with the app's roles when it has any."""
        issued = time.time()
        now = int(issued)
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{self._tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_s,
            "appid": app_id,
            "appidacr": "1",
            "idtyp": "app",
            "oid": object_id_of(app_id),
            "sub": object_id_of(app_id),
            "tid": self._tenant_id,
            "ver": "1.0",
            "uti": uuid.uuid4().hex[:22],
            "xms_issued_ms": int(issued * 1000),
        }
        if roles:
            claims["roles"] = list(roles)
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.key_id})

    def validate(self, token: str, *, audiences: list[str]) -> Caller:
        """Check signature, lifetime, audience and tenant.

        Raises:
            TokenRejectedError: the token is not acceptable.
        """
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._public, algorithms=["RS256"], audience=audiences
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenRejectedError("The access token has expired.", expired=True) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenRejectedError(f"The access token is invalid: {exc}") from exc
        if claims.get("tid") != self._tenant_id:
            raise TokenRejectedError("The access token was issued by another tenant.")
        if claims.get("xms_issued_ms", 0) / 1000 < self.not_before:
            raise TokenRejectedError("The access token has expired.", expired=True)
        return Caller(app_id=claims["appid"], object_id=claims["oid"], tenant_id=claims["tid"])

    def revoke_all(self) -> None:
        """Make every token issued until now count as expired (fault injection)."""
        self.not_before = time.time()

    def jwks(self) -> dict[str, Any]:
        """The public key set, as served at ``discovery/v2.0/keys``."""
        numbers = self._public.public_numbers()

        def b64(value: int) -> str:
            raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
            return base64.urlsafe_b64encode(raw).decode().rstrip("=")

        key = {"kty": "RSA", "use": "sig", "kid": self.key_id, "n": b64(numbers.n)}
        return {"keys": [{**key, "e": b64(numbers.e)}]}
