"""Refuse to start with a placeholder secret, except in the explicit local profile.

A service's settings hold its secrets as ``SecretStr``. Outside the local profile a secret that
is empty, a known placeholder (``change-me``), a sandbox's public default or the value shipped
as the setting's default stops the process at start, naming the environment variable to set.
``ISTHMUS_PROFILE=local`` (what ``make run`` and the test suites set) allows them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

PROFILE_ENV = "ISTHMUS_PROFILE"
Profile = Literal["production", "local"]

PLACEHOLDERS = frozenset(
    {
        "change-me",
        "changeme",
        "change_me",
        "changeit",
        "password",
        "secret",
        "todo",
        "xxx",
        # The sandboxes' public credentials (their READMEs): fine locally, never in production.
        "sandbox-secret-value",
        "isthmus-sandbox-1",
        "isthmus-oauth-secret-1",
        "isthmus-local-webhook-key",
        "isthmus-local-events",
    }
)


class PlaceholderSecretError(Exception):
    """A secret setting holds a placeholder outside the local profile."""


def profile(environ: Mapping[str, str] | None = None) -> Profile:
    """The deployment profile: ``production`` unless ``ISTHMUS_PROFILE=local``.

    Raises:
        PlaceholderSecretError: the variable holds another value.
    """
    value = (environ if environ is not None else os.environ).get(PROFILE_ENV, "production")
    if value not in ("production", "local"):
        msg = f"{PROFILE_ENV}={value!r}: expected 'production' or 'local'"
        raise PlaceholderSecretError(msg)
    return value  # type: ignore[return-value]  # checked just above


def placeholder_secrets(settings: BaseModel) -> list[str]:
    """Environment variable names of the secrets that are empty or placeholders."""
    prefix = str(type(settings).model_config.get("env_prefix", ""))
    delimiter = str(type(settings).model_config.get("env_nested_delimiter") or "__")
    return [
        _variable(prefix, delimiter, path)
        for path, secret, default in _secrets(settings, ())
        if _placeholder(secret, default)
    ]


def _variable(prefix: str, delimiter: str, path: tuple[str, ...]) -> str:
    """``ISTHMUS_INGRESS_SAP__PASSWORD``; a mapping's entry as ``..._API_KEYS[name]__SECRET``."""
    name = prefix.upper()
    for index, part in enumerate(path):
        if part.startswith("["):
            name += part
        else:
            name += ("" if index == 0 else delimiter) + part.upper()
    return name


def refuse_placeholder_secrets(
    settings: BaseModel, *, service: str, environ: Mapping[str, str] | None = None
) -> None:
    """Raise unless every secret is real or the profile is local.

    Raises:
        PlaceholderSecretError: naming every offending setting.
    """
    if profile(environ) == "local":
        return
    offending = placeholder_secrets(settings)
    if offending:
        msg = (
            f"{service} refuses to start with placeholder or empty secrets: "
            f"{', '.join(offending)}. Set real values, or {PROFILE_ENV}=local on a development "
            "machine."
        )
        raise PlaceholderSecretError(msg)


def _secrets(
    model: BaseModel, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], SecretStr, Any]]:
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        here = (*path, name)
        if isinstance(value, SecretStr):
            yield here, value, field.default
        elif isinstance(value, BaseModel):
            yield from _secrets(value, here)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                entry = (*here, f"[{key}]")
                if isinstance(item, SecretStr):
                    yield entry, item, None
                elif isinstance(item, BaseModel):
                    yield from _secrets(item, entry)


def _placeholder(secret: SecretStr, default: Any) -> bool:
    value = secret.get_secret_value()
    if not value.strip() or value.strip().lower() in PLACEHOLDERS:
        return True
    return isinstance(default, SecretStr) and default.get_secret_value() == value


CONFIG_EXIT_CODE = 78
"""Exit code of a process refused for its configuration (EX_CONFIG)."""


def require_real_secrets(settings: BaseModel, *, service: str) -> None:
    """The entry points' check: log why and exit with code 78 on placeholder secrets."""
    try:
        refuse_placeholder_secrets(settings, service=service)
    except PlaceholderSecretError as exc:
        logging.getLogger(__name__).error("%s", exc)
        raise SystemExit(CONFIG_EXIT_CODE) from None
