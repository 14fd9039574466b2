"""OData V2 `$filter`: a tokenizer and recursive-descent parser producing an AST (no eval)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.values import parse_iso, to_ms

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<typed>(?:datetimeoffset|datetime|guid|time)'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
  | (?P<paren>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_/.]*)
    )""",
    re.VERBOSE,
)
COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
FUNCTIONS = frozenset({"substringof", "startswith", "endswith", "tolower", "toupper", "length"})


@dataclass(frozen=True)
class Literal:
    """A constant: str, int, Decimal, bool, None, or epoch ms for datetime literals."""

    value: Any


@dataclass(frozen=True)
class PropertyRef:
    """A property of the entity being filtered."""

    name: str


@dataclass(frozen=True)
class Compare:
    """`left op right` with op in eq/ne/gt/ge/lt/le."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    """`left and right` / `left or right`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: Node


@dataclass(frozen=True)
class Call:
    """A function call such as `substringof('abc',Name)`."""

    name: str
    args: tuple[Node, ...]


Node = Literal | PropertyRef | Compare | Logical | Not | Call


def _typed_literal(text: str) -> Literal:
    prefix, _, rest = text.partition("'")
    body = rest[:-1].replace("''", "'")
    if prefix in {"datetime", "datetimeoffset"}:
        try:
            return Literal(to_ms(parse_iso(body)))
        except ValueError as exc:
            raise MalformedRequestError(f"Invalid {prefix} literal '{body}'") from exc
    if prefix == "guid":
        return Literal(body.lower())
    return Literal(body)


def _number(text: str) -> Literal:
    stripped = text.rstrip("mMdDfFlL")
    if re.fullmatch(r"-?\d+", stripped) and stripped == text:
        return Literal(int(stripped))
    return Literal(Decimal(stripped))


def tokenize(text: str) -> list[tuple[str, str]]:
    """Split a `$filter` expression into (kind, text) tokens.

    Raises:
        MalformedRequestError: a character no token can start with.
    """
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise MalformedRequestError(f"Invalid filter expression near '{text[position:]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise MalformedRequestError(f"Invalid filter expression: expected '{text or 'term'}'")
        self.index += 1
        return token

    def word_is(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] in words

    def expression(self) -> Node:
        node = self.conjunction()
        while self.word_is("or"):
            self.take()
            node = Logical("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.unary()
        while self.word_is("and"):
            self.take()
            node = Logical("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.word_is("not"):
            self.take()
            return Not(self.unary())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.primary()
        if self.word_is(*COMPARISONS):
            op = self.take()[1]
            return Compare(op, left, self.primary())
        return left

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "paren" and text == "(":
            node = self.expression()
            self.take(")")
            return node
        if kind == "typed":
            return _typed_literal(text)
        if kind == "string":
            return Literal(text[1:-1].replace("''", "'"))
        if kind == "number":
            return _number(text)
        if kind == "word":
            return self.word(text)
        raise MalformedRequestError(f"Invalid filter expression near '{text}'")

    def word(self, text: str) -> Node:
        if text in {"true", "false"}:
            return Literal(text == "true")
        if text == "null":
            return Literal(None)
        token = self.peek()
        if token == ("paren", "("):
            if text not in FUNCTIONS:
                raise MalformedRequestError(f"Function '{text}' is not supported")
            self.take("(")
            args = [self.expression()]
            while self.peek() == ("paren", ","):
                self.take(",")
                args.append(self.expression())
            self.take(")")
            return Call(text, tuple(args))
        return PropertyRef(text)


def parse_filter(*, text: str) -> Node:
    """Parse a V2 `$filter` into an AST.

    Raises:
        MalformedRequestError: the expression is not valid V2 filter syntax.
    """
    parser = _Parser(tokenize(text))
    node = parser.expression()
    rest = parser.peek()
    if rest is not None:
        raise MalformedRequestError(f"Invalid filter expression near '{rest[1]}'")
    return node
