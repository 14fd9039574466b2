"""Edm values: wire form (verbose JSON) in and out, typed form for comparison and sorting."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.sandbox_kit.odata_date import (
    format_date,
    from_ms,
    is_date,
    parse_date,
    parse_iso,
    to_ms,
)
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.edm import Property

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?$")
_ZERO_GUID = "00000000-0000-0000-0000-000000000000"


def now_ms() -> int:
    """The current time in milliseconds."""
    return to_ms(dt.datetime.now(dt.UTC))


def today_ms() -> int:
    """Midnight UTC of today, the way SAP sends dates."""
    today = dt.datetime.now(dt.UTC).date()
    return to_ms(dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC))


def decimal_wire(value: Decimal, scale: int) -> str:
    """A decimal as SAP sends it: a string with exactly ``scale`` digits after the point."""
    quantum = Decimal(1).scaleb(-scale)
    return str(value.quantize(quantum))


_INTEGERS = frozenset({"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Byte", "Edm.SByte"})
_DEFAULTS: dict[str, Any] = {
    "Edm.String": "",
    "Edm.Boolean": False,
    "Edm.Time": "PT00H00M00S",
    "Edm.Guid": _ZERO_GUID,
    **dict.fromkeys(_INTEGERS, 0),
}


def default_value(prop: Property) -> Any:
    """What SAP returns for a property nobody set."""
    if prop.edm_type == "Edm.Decimal":
        return decimal_wire(Decimal(0), prop.scale)
    return _DEFAULTS.get(prop.edm_type)


def _date_ms(text: Any, name: str) -> int:
    if isinstance(text, int | float):
        return int(text)
    if not isinstance(text, str):
        raise MalformedRequestError(f"Invalid value for property '{name}'")
    if is_date(text):
        return parse_date(text)
    try:
        return to_ms(parse_iso(text))
    except ValueError as exc:
        raise MalformedRequestError(f"Invalid date value '{text}' for property '{name}'") from exc


def _decimal(value: Any, name: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedRequestError(f"Invalid decimal value for property '{name}'") from exc


def _integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedRequestError(f"Invalid integer for property '{name}'") from exc


def _string(value: Any, prop: Property) -> str:
    text = str(value)
    if prop.max_length and len(text) > prop.max_length:
        raise MalformedRequestError(
            f"Value of property '{prop.name}' exceeds maximum length {prop.max_length}"
        )
    return text


def to_wire(prop: Property, value: Any) -> Any:
    """Normalise a request value into the wire form stored and sent back.

    Raises:
        MalformedRequestError: the value does not fit the Edm type.
    """
    kind = prop.edm_type
    if value is None:
        return "" if kind == "Edm.String" else None
    if kind in {"Edm.DateTime", "Edm.DateTimeOffset"}:
        return format_date(_date_ms(value, prop.name), offset=kind == "Edm.DateTimeOffset")
    if kind == "Edm.Decimal":
        return decimal_wire(_decimal(value, prop.name), prop.scale)
    if kind == "Edm.Boolean":
        return value if isinstance(value, bool) else str(value).lower() == "true"
    if kind in _INTEGERS:
        return _integer(value, prop.name)
    return _string(value, prop) if kind == "Edm.String" else str(value)


def typed(prop: Property, wire: Any) -> Any:
    """A wire value as a comparable Python value (ms for dates, Decimal for decimals)."""
    if wire is None:
        return None
    kind = prop.edm_type
    if kind in {"Edm.DateTime", "Edm.DateTimeOffset"}:
        text = str(wire)
        return parse_date(text) if is_date(text) else None
    if kind == "Edm.Decimal":
        return Decimal(str(wire))
    if kind == "Edm.Guid":
        return str(wire).lower()
    return wire


def etag_of(prop: Property, wire: Any) -> str:
    """The weak ETag SAP derives from a concurrency property."""
    if prop.edm_type == "Edm.DateTimeOffset":
        ms = typed(prop, wire) or 0
        stamp = from_ms(ms).strftime("%Y-%m-%dT%H%%3A%M%%3A%S") + f".{ms % 1000:03d}0000Z"
        return f"W/\"datetimeoffset'{stamp}'\""
    return f"W/\"'{wire}'\""
