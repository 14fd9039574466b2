"""Recursive-descent parser of the expression language into an AST (see nodes.py).

Grammar, loosest binding first:

    expr        := or ('?' expr ':' expr)?
    or          := and ('or' and)*
    and         := not ('and' not)*
    not         := 'not' not | comparison
    comparison  := additive (('=' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in') additive)?
    additive    := term (('+' | '-' | '&') term)*
    term        := unary (('*' | '/' | '%') unary)*
    unary       := '-' unary | postfix
    postfix     := primary ('.' NAME | '[' '*' ']' | '[' expr ']')*
    primary     := NUMBER | STRING | true | false | null | VARIABLE | NAME | NAME '(' args ')'
                 | '(' expr ')' | '[' (expr (',' expr)*)? ']'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from isthmus.mapping.errors import ExpressionSyntaxError
from isthmus.mapping.expressions import nodes
from isthmus.mapping.expressions.tokens import KEYWORDS, Kind, Token, tokenize

# Deeper nesting is refused at load time, so evaluation can never exhaust the Python stack.
MAX_DEPTH = 48
MAX_TREE_DEPTH = 120
_COMPARISONS = frozenset({"=", "==", "!=", "<", "<=", ">", ">="})
_LITERAL_WORDS: dict[str, bool | None] = {"true": True, "false": False, "null": None}


def parse(text: str) -> nodes.Node:
    """Parse one expression.

    Raises:
        ExpressionSyntaxError: with the column of the offending token.
    """
    parser = _Parser(text, tokenize(text))
    node = parser.expression()
    parser.expect_end()
    if tree_depth(node) > MAX_TREE_DEPTH:
        raise ExpressionSyntaxError(
            f"expression is nested deeper than {MAX_TREE_DEPTH} levels (split it up)",
            expression=text,
            column=node.column,
        )
    return node


def tree_depth(root: nodes.Node) -> int:
    """Depth of an AST, measured without recursion (long `a + b + c ...` chains are deep too)."""
    deepest = 0
    pending: list[tuple[nodes.Node, int]] = [(root, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        for child in node.children():
            pending.append((child, depth + 1))
    return deepest


class _Parser:
    def __init__(self, text: str, tokens: list[Token]) -> None:
        self._text = text
        self._tokens = tokens
        self._pos = 0
        self._depth = 0

    # --- token helpers
    def _peek(self) -> Token:
        return self._tokens[self._pos]

    def _advance(self) -> Token:
        token = self._tokens[self._pos]
        self._pos += 1
        return token

    def _at(self, text: str) -> bool:
        token = self._peek()
        return token.kind in (Kind.OP, Kind.NAME) and token.text == text

    def _accept(self, text: str) -> Token | None:
        if self._at(text):
            return self._advance()
        return None

    def _expect(self, text: str) -> Token:
        token = self._accept(text)
        if token is None:
            raise self._error(f"expected {text!r}")
        return token

    def _error(self, message: str, token: Token | None = None) -> ExpressionSyntaxError:
        token = token or self._peek()
        found = "end of expression" if token.kind is Kind.END else repr(token.text)
        return ExpressionSyntaxError(
            f"{message}, found {found}", expression=self._text, column=token.column
        )

    def expect_end(self) -> None:
        if self._peek().kind is not Kind.END:
            raise self._error("expected end of expression")

    # --- grammar
    def expression(self) -> nodes.Node:
        with self._nesting():
            return self._expression()

    @contextmanager
    def _nesting(self) -> Iterator[None]:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self._error(f"expression nests deeper than {MAX_DEPTH} levels")
        try:
            yield
        finally:
            self._depth -= 1

    def _expression(self) -> nodes.Node:
        condition = self._or()
        question = self._accept("?")
        if question is None:
            return condition
        then = self.expression()
        self._expect(":")
        otherwise = self.expression()
        return nodes.Conditional(question.column, condition, then, otherwise)

    def _or(self) -> nodes.Node:
        left = self._and()
        while (token := self._accept("or")) is not None:
            left = nodes.Binary(token.column, "or", left, self._and())
        return left

    def _and(self) -> nodes.Node:
        left = self._not()
        while (token := self._accept("and")) is not None:
            left = nodes.Binary(token.column, "and", left, self._not())
        return left

    def _not(self) -> nodes.Node:
        token = self._accept("not")
        if token is None:
            return self._comparison()
        with self._nesting():
            return nodes.Unary(token.column, "not", self._not())

    def _comparison(self) -> nodes.Node:
        left = self._additive()
        token = self._peek()
        if (token.kind is Kind.OP and token.text in _COMPARISONS) or self._at("in"):
            self._advance()
            op = "=" if token.text == "==" else token.text
            return nodes.Binary(token.column, op, left, self._additive())
        return left

    def _additive(self) -> nodes.Node:
        left = self._term()
        while self._peek().kind is Kind.OP and self._peek().text in ("+", "-", "&"):
            token = self._advance()
            left = nodes.Binary(token.column, token.text, left, self._term())
        return left

    def _term(self) -> nodes.Node:
        left = self._unary()
        while self._peek().kind is Kind.OP and self._peek().text in ("*", "/", "%"):
            token = self._advance()
            left = nodes.Binary(token.column, token.text, left, self._unary())
        return left

    def _unary(self) -> nodes.Node:
        token = self._accept("-")
        if token is None:
            return self._postfix(self._primary())
        with self._nesting():
            return nodes.Unary(token.column, "-", self._unary())

    def _postfix(self, node: nodes.Node) -> nodes.Node:
        while True:
            if (dot := self._accept(".")) is not None:
                name = self._advance()
                if name.kind is not Kind.NAME:
                    raise self._error("expected a field name after '.'", name)
                node = nodes.Field(dot.column, node, name.text)
            elif (bracket := self._accept("[")) is not None:
                if self._accept("*") is not None:
                    node = nodes.Each(bracket.column, node)
                else:
                    node = nodes.Index(bracket.column, node, self.expression())
                self._expect("]")
            else:
                return node

    def _primary(self) -> nodes.Node:
        token = self._advance()
        if token.kind is Kind.NUMBER:
            value = Decimal(token.text) if "." in token.text else int(token.text)
            return nodes.Literal(token.column, value)
        if token.kind is Kind.STRING:
            return nodes.Literal(token.column, token.text)
        if token.kind is Kind.VARIABLE:
            return nodes.Variable(token.column, token.text)
        if token.kind is Kind.NAME:
            return self._name(token)
        if token.text == "(":
            inner = self.expression()
            self._expect(")")
            return inner
        if token.text == "[":
            return nodes.ListLiteral(token.column, self._arguments("]"))
        raise self._error("expected a value, field or function", token)

    def _name(self, token: Token) -> nodes.Node:
        if token.text in _LITERAL_WORDS:
            return nodes.Literal(token.column, _LITERAL_WORDS[token.text])
        if token.text in KEYWORDS:
            raise self._error("expected a value, field or function", token)
        if self._accept("(") is not None:
            return self._call(token)
        return nodes.Field(token.column, None, token.text)

    def _call(self, token: Token) -> nodes.Node:
        args = self._arguments(")")
        if token.text == "if":
            if len(args) != 3:  # noqa: PLR2004 - condition, then, else
                raise self._error("if(condition, then, else) takes 3 arguments", token)
            return nodes.Conditional(token.column, args[0], args[1], args[2])
        return nodes.Call(token.column, token.text, args)

    def _arguments(self, closing: str) -> tuple[nodes.Node, ...]:
        args: list[nodes.Node] = []
        if self._accept(closing) is not None:
            return ()
        args.append(self.expression())
        while self._accept(",") is not None:
            args.append(self.expression())
        self._expect(closing)
        return tuple(args)
