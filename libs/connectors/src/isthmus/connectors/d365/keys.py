"""Dataverse record addresses: primary-key GUIDs and alternate keys in URL form."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

KeyValue = str | int | Decimal | uuid.UUID | bool | date | datetime
RecordKey = uuid.UUID | str | Mapping[str, KeyValue]
"""A GUID (or its string form) or an alternate key as ``{"accountnumber": "A-1000"}``."""


def literal(value: KeyValue) -> str:
    """A value as an OData 4.0 literal: strings quoted with doubled quotes, GUIDs bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, uuid.UUID | int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + value.replace("'", "''") + "'"


def key_segment(key: RecordKey) -> str:
    """The parenthesised key of a record URL: ``(guid)`` or ``(name='value',...)``.

    Raises:
        ValueError: an alternate key without columns, or a string that is not a GUID.
    """
    if isinstance(key, uuid.UUID):
        return f"({key})"
    if isinstance(key, str):
        return f"({uuid.UUID(key)})"
    if not key:
        raise ValueError("an alternate key needs at least one column")
    return "(" + ",".join(f"{name}={literal(value)}" for name, value in key.items()) + ")"


def key_template(key: RecordKey) -> str:
    """The key with values replaced by placeholders, for span names (no data in traces)."""
    if isinstance(key, uuid.UUID | str):
        return "({id})"
    return "(" + ",".join(f"{name}={{{name}}}" for name in key) + ")"


def entity_id(entity_url: str) -> uuid.UUID | None:
    """The GUID at the end of an ``OData-EntityId`` URL, if it is addressed by GUID."""
    inner = entity_url.rsplit("(", 1)[-1].rstrip(")")
    try:
        return uuid.UUID(inner)
    except ValueError:
        return None
