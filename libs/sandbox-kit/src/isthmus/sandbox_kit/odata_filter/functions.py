"""What ``$filter`` operators and text functions compute, the same in every dialect."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

MIRRORED = {"eq": "eq", "ne": "ne", "gt": "lt", "ge": "le", "lt": "gt", "le": "ge"}
"""The operator that keeps a comparison's meaning when its operands swap sides."""

_ORDERINGS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
TEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": lambda value, part: part in value,
    "substringof": lambda part, value: part in value,
    "startswith": lambda value, prefix: value.startswith(prefix),
    "endswith": lambda value, suffix: value.endswith(suffix),
    "tolower": lambda value: value.lower(),
    "toupper": lambda value: value.upper(),
    "length": len,
}
"""The text functions of both dialects, by name, on already-converted string arguments."""


def compare(op: str, left: Any, right: Any) -> bool:
    """``left op right``: ``eq``/``ne`` treat null as a value, an ordering with null is false.

    Raises:
        TypeError: the two values cannot be ordered against each other.
    """
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    return bool(_ORDERINGS[op](left, right))


def apply_function(name: str, args: Sequence[str]) -> Any:
    """The value of text function ``name`` on exactly as many arguments as it takes."""
    return TEXT_FUNCTIONS[name](*args)
