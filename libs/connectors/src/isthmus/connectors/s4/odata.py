"""OData V2 details: literals, key predicates, verbose-JSON unwrapping, ``sap-message``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from isthmus.connectors.s4.errors import S4UnexpectedError, SapMessage

V2Value = str | int | Decimal | bool | date | datetime
EntityKey = str | Mapping[str, V2Value]
"""A single string key (``'4711'``) or named key properties for composite keys."""


def v2_literal(value: V2Value) -> str:
    """A value as an OData V2 URL literal (``'x'``, ``datetime'...'``, ``10.5M``, ``true``)."""
    if isinstance(value, bool | int):
        return str(value).lower()
    if isinstance(value, Decimal):
        return f"{value}M"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            return f"datetimeoffset'{text}Z'"
        return f"datetime'{value.strftime('%Y-%m-%dT%H:%M:%S')}'"
    if isinstance(value, date):
        return f"datetime'{value.isoformat()}T00:00:00'"
    return "'" + value.replace("'", "''") + "'"


def key_predicate(key: EntityKey) -> str:
    """``('4711')`` or ``(SalesOrder='4711',SalesOrderItem='10')``."""
    if isinstance(key, str):
        return f"({v2_literal(key)})"
    return "(" + ",".join(f"{name}={v2_literal(value)}" for name, value in key.items()) + ")"


def key_template(key: EntityKey) -> str:
    """The key with placeholders instead of values, for span names."""
    if isinstance(key, str):
        return "({key})"
    return "(" + ",".join(f"{name}={{{name}}}" for name in key) + ")"


def query_options(
    *,
    filter: str | None = None,
    select: Sequence[str] | None = None,
    expand: Sequence[str] | None = None,
    orderby: str | None = None,
    top: int | None = None,
    skip: int | None = None,
    inlinecount: bool = False,
) -> dict[str, str]:
    """System query options of a V2 read."""
    params: dict[str, str] = {}
    if filter:
        params["$filter"] = filter
    if select:
        params["$select"] = ",".join(select)
    if expand:
        params["$expand"] = ",".join(expand)
    if orderby:
        params["$orderby"] = orderby
    if top is not None:
        params["$top"] = str(top)
    if skip is not None:
        params["$skip"] = str(skip)
    if inlinecount:
        params["$inlinecount"] = "allpages"
    return params


def sap_messages(response: httpx.Response) -> tuple[SapMessage, ...]:
    """The ``sap-message`` header as messages: the main one first, then its details."""
    return sap_messages_of(response.headers)


def sap_messages_of(headers: Mapping[str, str]) -> tuple[SapMessage, ...]:
    """``sap_messages`` from a header mapping (names lower-case, as in a batch answer)."""
    raw = headers.get("sap-message")
    if not raw:
        return ()
    try:
        top = json.loads(raw)
    except ValueError:
        return (SapMessage(code="", message=raw, severity="info"),)
    found = [top, *(top.get("details") or [])]
    return tuple(
        SapMessage(
            code=str(m.get("code", "")),
            message=str(m.get("message", "")),
            severity=str(m.get("severity", "info")),
            target=str(m.get("target", "")),
        )
        for m in found
        if isinstance(m, dict)
    )


@dataclass(frozen=True)
class S4Entity:
    """One entity as S/4HANA returned it.

    Attributes:
        data: the properties (``__metadata`` removed; expanded navigations as returned).
        etag: the entity's ETag (``__metadata.etag`` or the ``ETag`` header).
        messages: ``sap-message`` messages of the response (warnings surface here).
    """

    data: dict[str, Any]
    etag: str | None = None
    messages: tuple[SapMessage, ...] = field(default=())

    @property
    def warnings(self) -> tuple[SapMessage, ...]:
        """The messages of severity ``warning`` or ``error``."""
        return tuple(m for m in self.messages if m.severity in {"warning", "error"})


def entity_from(response: httpx.Response) -> S4Entity:
    """The entity of a single-entity answer (``{"d": {...}}``).

    Raises:
        S4UnexpectedError: the body is not verbose JSON.
    """
    try:
        payload = dict(response.json()["d"])
    except (ValueError, KeyError, TypeError) as exc:
        raise S4UnexpectedError("answer is not OData V2 JSON", status=response.status_code) from exc
    metadata = payload.pop("__metadata", {}) or {}
    etag = response.headers.get("etag") or metadata.get("etag")
    return S4Entity(data=payload, etag=etag, messages=sap_messages(response))


@dataclass(frozen=True)
class S4Page:
    """One page of a V2 collection; ``next_link`` is the ``__next`` URL, if any."""

    rows: list[dict[str, Any]]
    next_link: str | None
    count: int | None


def page_from(response: httpx.Response) -> S4Page:
    """The page of a collection answer (``{"d": {"results": [...], "__next": ...}}``).

    Raises:
        S4UnexpectedError: the body is not a V2 collection.
    """
    try:
        d = response.json()["d"]
        rows = d["results"] if isinstance(d, dict) else d
    except (ValueError, KeyError, TypeError) as exc:
        raise S4UnexpectedError("answer is not an OData V2 collection") from exc
    next_link = d.get("__next") if isinstance(d, dict) else None
    count = d.get("__count") if isinstance(d, dict) else None
    return S4Page(rows=list(rows), next_link=next_link, count=int(count) if count else None)
