"""Runtime semantics of operators: exact arithmetic, null handling, comparisons, truth."""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from isthmus.mapping.errors import EvaluationError
from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.values import DECIMALS, number, type_name


def truth(value: Any, *, where: str) -> bool:
    """Truth of a condition: booleans as is, null is false, anything else is an error.

    Raises:
        EvaluationError: for a non-boolean condition.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise EvaluationError(f"{where} needs true or false, got {type_name(value)} {value!r}")


_NUMBER_TYPES = (int, float, Decimal)
_NUMBER_PAIRS = frozenset((a, b) for a in _NUMBER_TYPES for b in _NUMBER_TYPES)


def _is_number(value: Any) -> bool:
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


# Pairs Python itself compares exactly as the language does (int and Decimal by value, text by
# code points), so no conversion is needed; floats and mixed kinds take the general path.
_PLAIN_PAIRS = frozenset(
    {(int, int), (int, Decimal), (Decimal, int), (Decimal, Decimal), (str, str)}
)


def equal(left: Any, right: Any) -> bool:
    """Equality; numbers compare by value whatever their representation."""
    if (type(left), type(right)) in _PLAIN_PAIRS:
        return bool(left == right)
    if _is_number(left) and _is_number(right):
        return number(left, where="=") == number(right, where="=")
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return bool(left == right)


def _orderable(left: Any, right: Any, op: str) -> tuple[Any, Any]:
    if (type(left), type(right)) in _NUMBER_PAIRS or (_is_number(left) and _is_number(right)):
        return number(left, where=op), number(right, where=op)
    if isinstance(left, str) and isinstance(right, str):
        return left, right
    if isinstance(left, dt.datetime) and isinstance(right, dt.datetime):
        return left, right
    if type(left) is dt.date and type(right) is dt.date:
        return left, right
    raise EvaluationError(
        f"cannot compare {type_name(left)} {left!r} {op} {type_name(right)} {right!r}"
    )


_ORDERINGS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compare(op: str, left: Any, right: Any) -> bool:
    """`=`, `!=`, `<`, `<=`, `>`, `>=`; ordering with a null is false.

    Raises:
        EvaluationError: when the two values cannot be ordered against each other.
    """
    if op == "=":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    if left is None or right is None:
        return False
    a, b = _orderable(left, right, op)
    return bool(_ORDERINGS[op](a, b))


Operand = Callable[[Any], Any]  # a compiled operand: scope -> value


def comparison(op: str, left: Operand, right: Operand) -> Callable[[Any], bool]:
    """`compare` with the operator and both operands fixed once, for a compiled expression.

    The returned function raises EvaluationError as `compare` does.
    """
    order = _ORDERINGS.get(op)
    if order is None:
        if op == "=":
            return lambda scope: equal(left(scope), right(scope))
        return lambda scope: not equal(left(scope), right(scope))

    def ordered(scope: Any) -> bool:
        a, b = left(scope), right(scope)
        kinds = (type(a), type(b))
        if kinds in _PLAIN_PAIRS:
            return bool(order(a, b))
        if kinds in _NUMBER_PAIRS:  # a float: compared through its shortest repr, as always
            return bool(order(number(a, where=op), number(b, where=op)))
        return compare(op, a, b)

    return ordered


def arithmetic(op: str, left: Any, right: Any) -> Decimal | None:
    """`+ - * / %` on exact decimals; a null operand gives null.

    Raises:
        EvaluationError: for a non-number operand or a division by zero.
    """
    if left is None or right is None:
        return None
    a = number(left, where=f"'{op}'")
    b = number(right, where=f"'{op}'")
    if op == "+":
        return DECIMALS.add(a, b)
    if op == "-":
        return DECIMALS.subtract(a, b)
    if op == "*":
        return DECIMALS.multiply(a, b)
    if b == 0:
        raise EvaluationError(f"division by zero: {a} {op} {b}")
    if op == "/":
        return DECIMALS.divide(a, b)
    return DECIMALS.remainder(a, b)


def concatenate(left: Any, right: Any) -> str:
    """`&`: text of both sides, a null side counts as empty."""
    return (to_string(left) or "") + (to_string(right) or "")
