"""Value model of the expression language: exact decimals, strings, booleans, dates, lists, maps."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from isthmus.mapping.errors import ConversionError, EvaluationError

# Every arithmetic operation uses this context, never the thread's global one. 64 digits keep
# sums and products of the widest contract decimals (23 digits) exact; only division can round,
# and a flow rounds explicitly where it needs a scale.
DECIMALS = Context(prec=64, rounding=ROUND_HALF_UP, traps=[InvalidOperation])


_TYPE_NAMES: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    ((int, float, Decimal), "number"),
    (str, "string"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    ((list, tuple), "list"),
    (dict, "object"),
)


def type_name(value: object) -> str:
    """The language's name for the kind of a value (used in messages)."""
    return next((name for kind, name in _TYPE_NAMES if isinstance(value, kind)), "unsupported")


def number(value: object, *, where: str) -> Decimal:
    """An operand as an exact Decimal (floats through their shortest repr, e.g. 39.98).

    Raises:
        EvaluationError: for anything that is not already a number (convert strings explicitly).
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise EvaluationError(f"{where} needs a number, got boolean {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        result = Decimal(repr(value))
        if not result.is_finite():
            raise EvaluationError(f"{where} needs a finite number, got {value!r}")
        return result
    raise EvaluationError(
        f"{where} needs a number, got {type_name(value)} {value!r} (use to_decimal to convert)"
    )


def text(value: object, *, where: str) -> str:
    """An operand that must be a string.

    Raises:
        EvaluationError: for anything else.
    """
    if isinstance(value, str):
        return value
    raise EvaluationError(f"{where} needs a string, got {type_name(value)} {value!r}")


def integer(value: object, *, where: str) -> int:
    """An operand that must be a whole number (e.g. a length or a position).

    Raises:
        EvaluationError: for a non-number or a fraction.
    """
    if type(value) is int:
        return value  # the common case (positions, literals): whole already
    amount = number(value, where=where)
    if amount != amount.to_integral_value():
        raise EvaluationError(f"{where} needs a whole number, got {amount}")
    return int(amount)


def as_list(value: object) -> list[Any]:
    """A list as is, null as empty, any single value as a one-element list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    return [value]


def plain_decimal(value: Decimal) -> str:
    """A Decimal in plain notation keeping its scale (`Decimal('1E+1')` -> '10')."""
    if not value.is_finite():
        raise ConversionError(value=value, target_type="string", detail="not a finite number")
    return format(value, "f")


def quantum(places: object, *, where: str) -> Decimal:
    """`Decimal('0.001')` for 3 places: the exponent to quantize to (built once per scale).

    Raises:
        EvaluationError: for a non-number or a fraction.
    """
    return _quantum(integer(places, where=where))


@lru_cache(maxsize=64)
def _quantum(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)
