"""Type conversion functions; a bad value fails with a ConversionError naming it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.mapping.errors import ConversionError
from isthmus.mapping.functions.registry import Function, fn
from isthmus.mapping.functions.temporal import iso_datetime, parse_date, parse_datetime
from isthmus.mapping.values import DECIMALS, plain_decimal, quantum

_TRUE = frozenset({"true", "1", "yes", "y", "x"})
_FALSE = frozenset({"false", "0", "no", "n", ""})


def to_string(value: Any) -> str | None:
    """Text of a value: decimals in plain notation, dates ISO, booleans true/false."""
    kind = type(value)
    if kind is str:  # the common cases, without walking the match of _text_of
        return value  # type: ignore[no-any-return]  # the exact type test narrows it
    if kind is int:
        return str(value)
    return _text_of(value)


def _text_of(value: Any) -> str | None:  # noqa: PLR0911 - one return per type
    match value:
        case None:
            return None
        case str():
            return value
        case bool():
            return "true" if value else "false"
        case Decimal():
            return plain_decimal(value)
        case int():
            return str(value)
        case float():
            return plain_decimal(Decimal(repr(value)))
        case dt.datetime():
            return iso_datetime(value)
        case dt.date():
            return value.isoformat()
    raise ConversionError(value=value, target_type="string")


def to_decimal(value: Any, scale: Any = None) -> Decimal:
    """An exact decimal, rounded half-up to `scale` places when given."""
    try:
        if isinstance(value, bool):
            raise ConversionError(value=value, target_type="decimal")
        if isinstance(value, float):
            result = Decimal(repr(value))
        elif isinstance(value, str | int | Decimal):
            result = Decimal(value.strip() if isinstance(value, str) else value)
        else:
            raise ConversionError(value=value, target_type="decimal")
    except InvalidOperation as exc:
        raise ConversionError(value=value, target_type="decimal") from exc
    if not result.is_finite():
        raise ConversionError(value=value, target_type="decimal", detail="not a finite number")
    if scale is None:
        return result
    return result.quantize(quantum(scale, where="scale"), context=DECIMALS)


def to_int(value: Any) -> int:
    """A whole number; fractions and non-numeric text fail."""
    try:
        amount = to_decimal(value)
    except ConversionError:
        raise ConversionError(value=value, target_type="int") from None
    if amount != amount.to_integral_value():
        raise ConversionError(value=value, target_type="int", detail="has a fraction")
    return int(amount)


def to_bool(value: Any) -> bool:
    """true/false from booleans, 0/1 and text (true/false, yes/no, SAP flag 'X' or '')."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal) and value in (0, 1):
        return value == 1
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise ConversionError(value=value, target_type="boolean")


FUNCTIONS: tuple[Function, ...] = (
    fn("to_string", to_string, (1, 1), "text of a value"),
    fn("to_decimal", to_decimal, (1, 2), "exact decimal, optional scale"),
    fn("to_int", to_int, (1, 1), "whole number"),
    fn("to_bool", to_bool, (1, 1), "boolean"),
    fn("to_date", parse_date, (1, 1), "calendar date"),
    fn("to_datetime", parse_datetime, (1, 1), "UTC timestamp"),
)
