"""Calls of built-in functions, bound once to their compiled arguments by arity."""

from __future__ import annotations

from typing import Any

from isthmus.mapping.errors import EvaluationError
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.functions.registry import Function

# Exceptions a built-in may raise on a strange value; they become the record's EvaluationError.
VALUE_ERRORS = (ArithmeticError, ValueError, OverflowError)


def bind(function: Function, args: list[Evaluator]) -> Evaluator:
    """A call of a built-in; up to three arguments are bound without building a list.

    The returned evaluator raises EvaluationError for a value error inside the built-in.
    """
    if len(args) == 1:
        return _bind_one(function, args[0])
    if len(args) == 2:  # noqa: PLR2004 - the fixed-arity case, e.g. to_decimal(x, 3)
        return _bind_two(function, args[0], args[1])
    if len(args) == 3:  # noqa: PLR2004 - e.g. substring(text, 0, 40)
        return _bind_three(function, args[0], args[1], args[2])
    return _bind_many(function, args)


def _bind_one(function: Function, only: Evaluator) -> Evaluator:
    impl, name, nulls = function.impl, function.name, function.null_in_null_out

    def call_one(scope: Scope) -> Any:
        value = only(scope)
        if value is None and nulls:
            return None
        try:
            return impl(value)
        except VALUE_ERRORS as exc:
            raise EvaluationError(f"{name}(): {exc}") from exc

    return call_one


def _bind_two(function: Function, first: Evaluator, second: Evaluator) -> Evaluator:
    impl, name, nulls = function.impl, function.name, function.null_in_null_out

    def call_two(scope: Scope) -> Any:
        value, other = first(scope), second(scope)  # both evaluated, as for any other call
        if nulls and value is None:
            return None
        try:
            return impl(value, other)
        except VALUE_ERRORS as exc:
            raise EvaluationError(f"{name}(): {exc}") from exc

    return call_two


def _bind_three(
    function: Function, first: Evaluator, second: Evaluator, third: Evaluator
) -> Evaluator:
    impl, name, nulls = function.impl, function.name, function.null_in_null_out

    def call_three(scope: Scope) -> Any:
        value, other, last = first(scope), second(scope), third(scope)
        if nulls and value is None:
            return None
        try:
            return impl(value, other, last)
        except VALUE_ERRORS as exc:
            raise EvaluationError(f"{name}(): {exc}") from exc

    return call_three


def _bind_many(function: Function, args: list[Evaluator]) -> Evaluator:
    impl, name, nulls = function.impl, function.name, function.null_in_null_out

    def call(scope: Scope) -> Any:
        values = [arg(scope) for arg in args]
        if nulls and values[0] is None:
            return None
        try:
            return impl(*values)
        except VALUE_ERRORS as exc:
            raise EvaluationError(f"{name}(): {exc}") from exc

    return call
