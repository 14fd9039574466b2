"""``$filter`` parsing: tokens, then a recursive-descent parser producing an AST (no eval)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from isthmus.sandbox_d365.errors import QueryError

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<dstring>"(?:[^"\\]|\\.)*")
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-]))
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\w-]))
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w]))
  | (?P<name>[A-Za-z_][\w.]*)
  | (?P<punct>[(),/\[\]=])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Literal:
    """A constant; ``kind`` is string, guid, datetime, date, number, bool, null or list."""

    value: Any
    kind: str


@dataclass(frozen=True)
class Prop:
    """A column, possibly through a lookup: ``('primarycontactid', 'fullname')``."""

    path: tuple[str, ...]


@dataclass(frozen=True)
class Compare:
    """``left op right`` with op in eq/ne/gt/ge/lt/le."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    """``left and right`` / ``left or right``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """``not operand``."""

    operand: Node


@dataclass(frozen=True)
class Call:
    """A function: contains/startswith/endswith or a ``Microsoft.Dynamics.CRM.*`` function."""

    name: str
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...] = ()


Node = Literal | Prop | Compare | Logical | Not | Call
_KEYWORD_LITERALS = {
    "true": Literal(True, "bool"),
    "false": Literal(False, "bool"),
    "null": Literal(None, "null"),
}


@dataclass(frozen=True)
class Token:
    """One lexical token."""

    kind: str
    text: str


def tokenize(text: str) -> list[Token]:
    """Split a ``$filter`` expression into tokens.

    Raises:
        QueryError: a character sequence that is no token.
    """
    tokens: list[Token] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _syntax(text, position)
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` value into an AST.

    Raises:
        QueryError: the expression is not valid.
    """
    parser = _Parser(tokenize(text), text)
    node = parser.expression()
    if parser.peek() is not None:
        raise _syntax(text, None)
    return node


class _Parser:
    def __init__(self, tokens: list[Token], text: str) -> None:
        self._tokens = tokens
        self._pos = 0
        self._text = text

    def peek(self) -> Token | None:
        return self._tokens[self._pos] if self._pos < len(self._tokens) else None

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise _syntax(self._text, None)
        self._pos += 1
        return token

    def _keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "name" and token.text == word:
            self._pos += 1
            return True
        return False

    def expression(self) -> Node:
        node = self._and()
        while self._keyword("or"):
            node = Logical("or", node, self._and())
        return node

    def _and(self) -> Node:
        node = self._unary()
        while self._keyword("and"):
            node = Logical("and", node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._keyword("not"):
            return Not(self._unary())
        left = self._primary()
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in COMPARISONS:
            self._pos += 1
            return Compare(token.text, left, self._primary())
        return left

    def _primary(self) -> Node:
        token = self.take()
        if token.text == "(":
            node = self.expression()
            self.take(")")
            return node
        if token.text == "[":
            return self._list()
        if token.kind != "name" or token.text in _KEYWORD_LITERALS:
            return _literal(token)
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            return self._call(token.text)
        path = [token.text]
        while (nxt := self.peek()) is not None and nxt.text == "/":
            self._pos += 1
            path.append(self.take().text)
        return Prop(tuple(path))

    def _call(self, name: str) -> Call:
        self.take("(")
        args: list[Node] = []
        named: list[tuple[str, Node]] = []
        while (token := self.peek()) is not None and token.text != ")":
            after = self._tokens[self._pos + 1] if self._pos + 1 < len(self._tokens) else None
            if token.kind == "name" and after is not None and after.text == "=":
                self._pos += 2
                named.append((token.text, self._primary()))
            else:
                args.append(self.expression())
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self._pos += 1
        self.take(")")
        return Call(name, tuple(args), tuple(named))

    def _list(self) -> Literal:
        items: list[Any] = []
        while (token := self.peek()) is not None and token.text != "]":
            items.append(_literal(self.take()).value)
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self._pos += 1
        self.take("]")
        return Literal(items, "list")


def _number(text: str) -> Literal:
    raw = text.rstrip("mMdDfFlL")
    value: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
    return Literal(value, "number")


_LITERALS: dict[str, Callable[[str], Literal]] = {
    "string": lambda t: Literal(t[1:-1].replace("''", "'"), "string"),
    "dstring": lambda t: Literal(t[1:-1].replace('\\"', '"'), "string"),
    "guid": lambda t: Literal(t.lower(), "guid"),
    "datetime": lambda t: Literal(t, "datetime"),
    "date": lambda t: Literal(t, "date"),
    "number": _number,
}


def _literal(token: Token) -> Literal:
    if token.kind == "name" and token.text in _KEYWORD_LITERALS:
        return _KEYWORD_LITERALS[token.text]
    convert = _LITERALS.get(token.kind)
    if convert is None:
        raise QueryError(f"Syntax error: unexpected '{token.text}' in the $filter expression.")
    return convert(token.text)


def _syntax(text: str, position: int | None) -> QueryError:
    where = f" at position {position}" if position is not None else ""
    return QueryError(f"Syntax error{where} in '{text}'.")
