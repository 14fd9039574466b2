"""Function descriptors and the table of every built-in function by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Function:
    """A built-in: arity bounds (max None = any) and whether a null first argument yields null."""

    name: str
    impl: Callable[..., Any]
    min_args: int
    max_args: int | None
    null_in_null_out: bool = True
    summary: str = ""


def fn(
    name: str,
    impl: Callable[..., Any],
    arity: tuple[int, int | None],
    summary: str,
    *,
    null_in_null_out: bool = True,
) -> Function:
    """Shorthand used by the function modules."""
    return Function(name, impl, arity[0], arity[1], null_in_null_out, summary)


def builtins() -> dict[str, Function]:
    """Every built-in function, by name (lookup and xref are compiled specially)."""
    from isthmus.mapping.functions import conversion, numeric, temporal, text  # noqa: PLC0415

    table: dict[str, Function] = {}
    for module in (text, conversion, numeric, temporal):
        for function in module.FUNCTIONS:
            table[function.name] = function
    return table
