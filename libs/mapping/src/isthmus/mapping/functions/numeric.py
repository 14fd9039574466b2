"""Numbers, money and lists: rounding, tax and net amounts, item numbers, aggregation, defaults."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from isthmus.mapping.errors import EvaluationError
from isthmus.mapping.functions.registry import Function, fn
from isthmus.mapping.values import DECIMALS, as_list, integer, number, quantum

_HUNDRED = Decimal(100)


def _quantum(places: Any) -> Decimal:
    return quantum(places, where="decimal places")


def round_half_up(value: Any, places: Any = 0) -> Decimal:
    """Commercial rounding (half away from zero) to `places` decimals."""
    return number(value, where="round").quantize(_quantum(places), rounding=ROUND_HALF_UP)


def floor(value: Any) -> Decimal:
    """Largest whole number not above the value."""
    return number(value, where="floor").quantize(Decimal(1), rounding=ROUND_FLOOR)


def ceil(value: Any) -> Decimal:
    """Smallest whole number not below the value."""
    return number(value, where="ceil").quantize(Decimal(1), rounding=ROUND_CEILING)


def tax_amount(net: Any, rate_percent: Any, places: Any = 2) -> Decimal:
    """Tax on a net amount at a percentage rate, rounded half-up (default 2 places)."""
    rate = number(rate_percent, where="tax rate")
    tax = DECIMALS.divide(DECIMALS.multiply(number(net, where="tax_amount"), rate), _HUNDRED)
    return tax.quantize(_quantum(places), rounding=ROUND_HALF_UP)


def gross_amount(net: Any, rate_percent: Any, places: Any = 2) -> Decimal:
    """Net plus tax, rounded half-up."""
    base = number(net, where="gross_amount").quantize(_quantum(places), rounding=ROUND_HALF_UP)
    return DECIMALS.add(base, tax_amount(net, rate_percent, places))


def net_amount(gross: Any, rate_percent: Any, places: Any = 2) -> Decimal:
    """The net amount contained in a gross amount at a percentage rate, rounded half-up."""
    factor = DECIMALS.add(Decimal(1), DECIMALS.divide(number(rate_percent, where="rate"), _HUNDRED))
    net = DECIMALS.divide(number(gross, where="net_amount"), factor)
    return net.quantize(_quantum(places), rounding=ROUND_HALF_UP)


def item_number(index: Any, step: Any = 10) -> int:
    """SAP-style item numbers from a 0-based position: 10, 20, 30 (or another step)."""
    return (integer(index, where="item_number") + 1) * integer(step, where="step")


def _numbers(values: Any, where: str) -> list[Decimal]:
    return [number(item, where=where) for item in as_list(values) if item is not None]


def total(values: Any) -> Decimal:
    """Sum of the non-null numbers of a list (0 for an empty list)."""
    result = Decimal(0)
    for item in _numbers(values, "sum"):
        result = DECIMALS.add(result, item)
    return result


def count(values: Any) -> int:
    """Number of non-null items."""
    return len([item for item in as_list(values) if item is not None])


def smallest(*values: Any) -> Any:
    """Minimum of a list, or of several arguments; null for none."""
    items = _comparable(values, "min")
    return min(items) if items else None


def largest(*values: Any) -> Any:
    """Maximum of a list, or of several arguments; null for none."""
    items = _comparable(values, "max")
    return max(items) if items else None


def _comparable(values: tuple[Any, ...], where: str) -> list[Any]:
    items = as_list(values[0]) if len(values) == 1 else list(values)
    present = [item for item in items if item is not None]
    if all(isinstance(item, str) for item in present):
        return present
    return _numbers(present, where)


def average(values: Any) -> Decimal | None:
    """Arithmetic mean of the non-null numbers, null for an empty list."""
    items = _numbers(values, "average")
    if not items:
        return None
    return DECIMALS.divide(total(items), Decimal(len(items)))


def absolute(value: Any) -> Decimal:
    """Absolute value."""
    return abs(number(value, where="abs"))


def _distinct(values: Any) -> list[Any]:
    seen: list[Any] = []
    for item in as_list(values):
        if item not in seen:
            seen.append(item)
    return seen


def _first(values: Any) -> Any:
    items = as_list(values)
    return items[0] if items else None


def _require(value: Any, message: Any) -> Any:
    if value is None:
        raise EvaluationError(str(message))
    return value


FUNCTIONS: tuple[Function, ...] = (
    fn("round", round_half_up, (1, 2), "commercial rounding"),
    fn("floor", floor, (1, 1), "round down"),
    fn("ceil", ceil, (1, 1), "round up"),
    fn("abs", absolute, (1, 1), "absolute value"),
    fn("tax_amount", tax_amount, (2, 3), "tax of a net amount"),
    fn("gross_amount", gross_amount, (2, 3), "net plus tax"),
    fn("net_amount", net_amount, (2, 3), "net part of a gross amount"),
    fn("item_number", item_number, (1, 2), "10, 20, 30 from a position"),
    fn("sum", total, (1, 1), "sum of a list", null_in_null_out=False),
    fn("count", count, (1, 1), "count of a list", null_in_null_out=False),
    fn("min", smallest, (1, None), "minimum", null_in_null_out=False),
    fn("max", largest, (1, None), "maximum", null_in_null_out=False),
    fn("average", average, (1, 1), "mean of a list", null_in_null_out=False),
    fn("distinct", _distinct, (1, 1), "list without repeats", null_in_null_out=False),
    fn("first", _first, (1, 1), "first item of a list", null_in_null_out=False),
    fn(
        "exists",
        lambda value: value is not None,
        (1, 1),
        "value is not null",
        null_in_null_out=False,
    ),
    fn("required", _require, (2, 2), "fail with a message when null", null_in_null_out=False),
)
