"""Compiles an expression AST once into nested Python closures (no eval, no attribute access)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from isthmus.mapping.errors import EvaluationError, ExpressionSyntaxError, FlowDefinitionError
from isthmus.mapping.expressions import nodes
from isthmus.mapping.expressions.calls import VALUE_ERRORS, bind
from isthmus.mapping.expressions.lookup_calls import compile_lookup, is_lookup
from isthmus.mapping.expressions.operators import (
    arithmetic,
    comparison,
    concatenate,
    equal,
    truth,
)
from isthmus.mapping.expressions.parser import parse
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.functions.registry import Function, builtins
from isthmus.mapping.lookups import StaticTable
from isthmus.mapping.values import DECIMALS, as_list, number

_FUNCTIONS = builtins()
_PREDICATE_OPERATORS = frozenset({"=", "!=", "<", "<=", ">", ">=", "and", "or", "in"})
_VARIABLES = frozenset({"$", "$$", "$index", "$parent"})


@dataclass(frozen=True, slots=True)
class Environment:
    """What the compiler knows: static tables, and where the expression comes from (messages)."""

    tables: Mapping[str, StaticTable]
    source: str = "<flow>"
    field: str | None = None


def compile_expression(text: str, *, env: Environment) -> Evaluator:
    """Parse and compile one expression into a callable `(Scope) -> value`.

    Raises:
        FlowDefinitionError: the expression does not parse, calls an unknown function with the
            wrong number of arguments, or names an unknown table; the message points at it.
    """
    try:
        return _Compiler(text, env).compile(parse(text))
    except ExpressionSyntaxError as exc:
        raise ExpressionSyntaxError(
            exc.reason, source=env.source, field=env.field, expression=text, column=exc.column
        ) from None


class _Compiler:
    def __init__(self, text: str, env: Environment) -> None:
        self.text = text
        self.env = env

    def error(self, message: str, node: nodes.Node) -> FlowDefinitionError:
        return FlowDefinitionError(
            message,
            source=self.env.source,
            field=self.env.field,
            expression=self.text,
            column=node.column,
        )

    def compile(self, node: nodes.Node) -> Evaluator:
        handler = _HANDLERS.get(type(node))
        if handler is None:
            raise self.error(f"unsupported expression node {type(node).__name__}", node)
        return handler(self, node)

    def _literal(self, node: nodes.Literal) -> Evaluator:
        value = node.value
        return lambda _scope: value

    def _each(self, node: nodes.Each) -> Evaluator:
        inner = self.compile(node.base)
        return lambda scope: as_list(inner(scope))

    def _list(self, node: nodes.ListLiteral) -> Evaluator:
        parts = [self.compile(item) for item in node.items]
        return lambda scope: [part(scope) for part in parts]

    def _variable(self, node: nodes.Variable) -> Evaluator:
        name = node.name
        if name not in _VARIABLES:
            raise self.error(f"unknown variable {name}; use $, $$, $index or $parent", node)
        if name == "$":
            return lambda scope: scope.current
        if name == "$$":
            return lambda scope: scope.root
        if name == "$index":
            return lambda scope: scope.index
        return lambda scope: scope.parent.current if scope.parent is not None else None

    def _field(self, node: nodes.Field) -> Evaluator:
        name = node.name
        if node.base is None:

            def field_of_current(scope: Scope) -> Any:
                current = scope.current
                return current.get(name) if type(current) is dict else _get(current, name)

            return field_of_current
        # `a.b.c` reads its fields in one loop rather than one closure per dot
        names, inner = [name], node.base
        while isinstance(inner, nodes.Field) and inner.base is not None:
            names.insert(0, inner.name)
            inner = inner.base
        base, path = self.compile(inner), tuple(names)

        def field_of(scope: Scope) -> Any:
            value = base(scope)
            for step in path:
                value = value.get(step) if type(value) is dict else _get(value, step)
            return value

        return field_of

    def _index(self, node: nodes.Index) -> Evaluator:
        base = self.compile(node.base)
        index = self.compile(node.index)
        if _is_predicate(node.index):
            return lambda scope: _select(base(scope), index, scope)
        return lambda scope: _at(base(scope), index(scope))

    def _unary(self, node: nodes.Unary) -> Evaluator:
        operand = self.compile(node.operand)
        if node.op == "not":
            return lambda scope: not truth(operand(scope), where="not")

        def negate(scope: Scope) -> Decimal | None:
            value = operand(scope)
            return None if value is None else DECIMALS.minus(number(value, where="'-'"))

        return negate

    def _binary(self, node: nodes.Binary) -> Evaluator:
        left, right, op = self.compile(node.left), self.compile(node.right), node.op
        if op in ("and", "or"):
            return _logical(op, left, right)
        if op == "&":
            return lambda s: concatenate(left(s), right(s))
        if op == "in":
            return lambda s: _member(left(s), right(s))
        if op in ("+", "-", "*", "/", "%"):
            return lambda s: _guard(arithmetic, op, left(s), right(s))
        return comparison(op, left, right)

    def _conditional(self, node: nodes.Conditional) -> Evaluator:
        condition = self.compile(node.condition)
        then, otherwise = self.compile(node.then), self.compile(node.otherwise)

        def choose(scope: Scope) -> Any:
            held = condition(scope)
            if held is True:  # the common case, without the call to truth()
                return then(scope)
            return then(scope) if truth(held, where="if") else otherwise(scope)

        return choose

    def _call(self, node: nodes.Call) -> Evaluator:
        if is_lookup(node.name):
            args = [self.compile(arg) for arg in node.args]
            return compile_lookup(node, args, tables=self.env.tables, error=self.error)
        if node.name == "coalesce":
            return _first_present([self.compile(arg) for arg in node.args])
        function = _FUNCTIONS.get(node.name)
        if function is None:
            raise self.error(f"unknown function {node.name}()", node)
        self._check_arity(function, node)
        return bind(function, [self.compile(arg) for arg in node.args])

    def _check_arity(self, function: Function, node: nodes.Call) -> None:
        count = len(node.args)
        upper = function.max_args
        if count < function.min_args or (upper is not None and count > upper):
            bounds = (
                f"{function.min_args}"
                if upper == function.min_args
                else (
                    f"{function.min_args} or more"
                    if upper is None
                    else f"{function.min_args}-{upper}"
                )
            )
            raise self.error(f"{node.name}() takes {bounds} argument(s), got {count}", node)


_HANDLERS: dict[type[nodes.Node], Callable[[_Compiler, Any], Evaluator]] = {
    nodes.Literal: _Compiler._literal,
    nodes.Variable: _Compiler._variable,
    nodes.Field: _Compiler._field,
    nodes.Index: _Compiler._index,
    nodes.Each: _Compiler._each,
    nodes.ListLiteral: _Compiler._list,
    nodes.Unary: _Compiler._unary,
    nodes.Binary: _Compiler._binary,
    nodes.Conditional: _Compiler._conditional,
    nodes.Call: _Compiler._call,
}


def _logical(op: str, left: Evaluator, right: Evaluator) -> Evaluator:
    """`and`/`or`, short-circuit; a true or false operand skips the call to truth()."""
    if op == "and":

        def both(scope: Scope) -> bool:
            first = left(scope)
            if first is not True and not truth(first, where="and"):
                return False
            second = right(scope)
            return second is True or truth(second, where="and")

        return both

    def either(scope: Scope) -> bool:
        first = left(scope)
        if first is True or truth(first, where="or"):
            return True
        second = right(scope)
        return second is True or truth(second, where="or")

    return either


def _guard(operation: Any, op: str, left: Any, right: Any) -> Any:
    try:
        return operation(op, left, right)
    except VALUE_ERRORS as exc:
        raise EvaluationError(f"'{op}': {exc}") from exc


def _get(value: Any, name: str) -> Any:
    """A field of an object; on a list, the field of every object in it, lists flattened."""
    if isinstance(value, dict):
        return value.get(name)
    if not isinstance(value, list):
        return None
    result: list[Any] = []
    pending = list(reversed(value))
    while pending:  # iterative, so deeply nested data cannot exhaust the stack
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
            continue
        found = item.get(name) if isinstance(item, dict) else None
        if isinstance(found, list):
            result.extend(found)
        elif found is not None:
            result.append(found)
    return result


def _at(value: Any, index: Any) -> Any:
    if value is None or index is None:
        return None
    if isinstance(index, str):
        return value.get(index) if isinstance(value, dict) else None
    position = int(number(index, where="index"))
    items = as_list(value)
    if -len(items) <= position < len(items):
        return items[position]
    return None


def _is_predicate(node: nodes.Node) -> bool:
    """`lines[quantity > 0]` filters; `lines[0]` picks a position."""
    if isinstance(node, nodes.Binary):
        return node.op in _PREDICATE_OPERATORS
    return isinstance(node, nodes.Unary) and node.op == "not"


def _select(value: Any, predicate: Evaluator, scope: Scope) -> list[Any]:
    """The elements for which the predicate, evaluated on each element, is true."""
    return [
        item
        for index, item in enumerate(as_list(value))
        if truth(predicate(scope.child(item, index)), where="filter")
    ]


def _first_present(args: list[Evaluator]) -> Evaluator:
    """`coalesce(a, b, ...)`: evaluates left to right and stops at the first non-null value."""

    def coalesce(scope: Scope) -> Any:
        for arg in args:
            value = arg(scope)
            if value is not None:
                return value
        return None

    return coalesce


def _member(value: Any, candidates: Any) -> bool:
    return any(equal(value, candidate) for candidate in as_list(candidates))
