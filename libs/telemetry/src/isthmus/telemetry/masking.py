"""Secrets and personal data never reach a log line.

Every line the JSON formatter writes passes through :func:`mask_text` (message, exception text)
and :func:`mask_value` (extras). What is masked:

* query parameters that carry credentials: ``?code=`` (Dataverse webhook key), ``access_token``,
  ``client_secret``, ``password``, ``sig``, ``token``, ``api_key``, ...;
* ``Authorization``, ``Cookie``, ``X-API-Key`` and ``X-CSRF-Token`` values, written as a header
  line or as a key of a rendered dict;
* JSON or dict fields named like a secret (``password``, ``client_secret``, ``refresh_token``...);
* anything shaped like a JSON Web Token, with or without ``Bearer``;
* e-mail addresses: the local part is replaced, the domain kept for support.

An extra whose *name* looks like a secret (``extra={"password": ...}``) is masked whole.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# names of body fields and log extras whose value is a credential (an error "code" is not one)
_SECRET_NAMES = (
    r"access_token|refresh_token|id_token|token|client_secret|clientsecret|secret|password|"  # noqa: S105
    r"passwd|pwd|signature|api[-_]?key|apikey|client_assertion"
)
# query parameters: also Dataverse's webhook key ``?code=`` and SAS ``sig=``
_QUERY_NAMES = rf"{_SECRET_NAMES}|code|sig|assertion"
_SECRET_KEY = re.compile(
    rf"^(?:{_SECRET_NAMES}|authorization|cookie|set-cookie|x-csrf-token)$", re.I
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer abc / Basic abc, as a header line or "authorization": "..."
    (
        re.compile(
            r"(?P<head>\b(?:proxy-)?authorization\b['\"]?\s*[:=]\s*['\"]?)"
            r"(?P<value>(?:bearer|basic|negotiate|sharedkey)\s+[^\s'\",;]+|[^\s'\",;]+)",
            re.I,
        ),
        rf"\g<head>{MASK}",
    ),
    # Cookie / X-API-Key / X-CSRF-Token header values (a CSRF token "Fetch" request is harmless)
    (
        re.compile(
            r"(?P<head>\b(?:set-cookie|cookie|x-api-key|x-csrf-token)\b['\"]?\s*[:=]\s*['\"]?)"
            r"(?P<value>(?!fetch\b)[^\s'\",;]+)",
            re.I,
        ),
        rf"\g<head>{MASK}",
    ),
    # ?code=abc&... and &client_secret=... in URLs and form bodies
    (
        re.compile(rf"(?P<head>[?&;](?:{_QUERY_NAMES})=)(?P<value>[^&\s'\"#]+)", re.I),
        rf"\g<head>{MASK}",
    ),
    # "password": "abc" / 'client_secret': 'abc' / password=abc in JSON, dict reprs and text
    (
        re.compile(
            rf"(?P<head>['\"]?\b(?:{_SECRET_NAMES})\b['\"]?\s*[:=]\s*)"
            r"(?P<value>\"[^\"]*\"|'[^']*'|(?!fetch\b)[^\s,;&}\]]+)",
            re.I,
        ),
        rf"\g<head>{MASK}",
    ),
    # a JSON Web Token anywhere (header.payload.signature, base64url)
    (re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"), MASK),
    # e-mail addresses: keep the domain
    (
        re.compile(r"\b[\w.%+-]+@(?P<domain>[\w-]+(?:\.[\w-]+)*\.[a-z]{2,})\b", re.I),
        r"***@\g<domain>",
    ),
)


def mask_text(text: str) -> str:
    """``text`` with every credential and e-mail address it contains masked."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_secret_name(name: str) -> bool:
    """Whether a field or extra called ``name`` holds a credential."""
    return bool(_SECRET_KEY.match(name))


def mask_value(value: Any, *, name: str = "") -> Any:
    """A log extra with its secrets masked: by its name, then inside strings, dicts and lists."""
    if name and is_secret_name(name):
        return MASK
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask_value(item, name=str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(item) for item in value]
    if isinstance(value, int | float | bool) or value is None:
        return value
    return mask_text(str(value))
