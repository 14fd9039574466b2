"""Recursive-descent ``$filter`` parser: the text of a dialect in, one syntax tree out (no eval)."""

from __future__ import annotations

from typing import Any

from isthmus.sandbox_kit.odata_filter.dialect import Dialect
from isthmus.sandbox_kit.odata_filter.errors import FilterSyntaxError
from isthmus.sandbox_kit.odata_filter.syntax import Call, Compare, Literal, Logical, Node, Not, Prop
from isthmus.sandbox_kit.odata_filter.tokens import Token, tokenize

COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_KEYWORD_LITERALS = {
    "true": Literal(True, "bool"),
    "false": Literal(False, "bool"),
    "null": Literal(None, "null"),
}


def parse(text: str, *, dialect: Dialect) -> Node:
    """The syntax tree of a ``$filter`` value.

    Raises:
        FilterSyntaxError: the expression is not valid in the dialect.
    """
    parser = _Parser(text, dialect)
    node = parser.expression()
    rest = parser.peek()
    if rest is not None:
        raise parser.error(dialect.messages.trailing, token=rest.text)
    return node


class _Parser:
    def __init__(self, text: str, dialect: Dialect) -> None:
        self._text = text
        self._dialect = dialect
        self._tokens = tokenize(text, dialect=dialect)
        self._pos = 0

    def error(self, template: str, **fields: Any) -> FilterSyntaxError:
        return FilterSyntaxError(template.format(text=self._text, **fields))

    def peek(self, ahead: int = 0) -> Token | None:
        index = self._pos + ahead
        return self._tokens[index] if index < len(self._tokens) else None

    def _next_is(self, punct: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "punct" and token.text == punct

    def take(self, text: str | None = None) -> Token:
        token = self.peek()
        if token is None or (text is not None and token.text != text):
            raise self.error(self._dialect.messages.incomplete, wanted=text or "term")
        self._pos += 1
        return token

    def _keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in words:
            self._pos += 1
            return token.text
        return None

    def expression(self) -> Node:
        node = self._conjunction()
        while self._keyword("or"):
            node = Logical("or", node, self._conjunction())
        return node

    def _conjunction(self) -> Node:
        node = self._unary()
        while self._keyword("and"):
            node = Logical("and", node, self._unary())
        return node

    def _unary(self) -> Node:
        if self._keyword("not"):
            return Not(self._unary())
        left = self._primary()
        op = self._keyword(*COMPARISONS)
        return left if op is None else Compare(op, left, self._primary())

    def _primary(self) -> Node:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            node = self.expression()
            self.take(")")
            return node
        if token.kind == "punct" and token.text == "[":
            return self._list()
        if token.kind != "name" or token.text in _KEYWORD_LITERALS:
            return self._literal(token)
        if self._next_is("("):
            return self._call(token.text)
        path = token.text.split("/")
        while self._next_is("/"):
            self._pos += 1
            path.append(self.take().text)
        return Prop(tuple(path))

    def _call(self, name: str) -> Call:
        dialect = self._dialect
        if dialect.unknown_function is not None and name not in dialect.functions:
            raise self.error(dialect.unknown_function, name=name)
        self.take("(")
        if dialect.named_arguments:
            return self._named_call(name)
        args = [self.expression()]
        while self._next_is(","):
            self._pos += 1
            args.append(self.expression())
        self.take(")")
        return Call(name, tuple(args))

    def _named_call(self, name: str) -> Call:
        args: list[Node] = []
        named: list[tuple[str, Node]] = []
        while (token := self.peek()) is not None and token.text != ")":
            after = self.peek(1)
            if token.kind == "name" and after is not None and after.text == "=":
                self._pos += 2
                named.append((token.text, self._primary()))
            else:
                args.append(self.expression())
            if self._next_is(","):
                self._pos += 1
        self.take(")")
        return Call(name, tuple(args), tuple(named))

    def _list(self) -> Literal:
        items: list[Any] = []
        while (token := self.peek()) is not None and token.text != "]":
            items.append(self._literal(self.take()).value)
            if self._next_is(","):
                self._pos += 1
        self.take("]")
        return Literal(items, "list")

    def _literal(self, token: Token) -> Literal:
        if token.kind == "name" and token.text in _KEYWORD_LITERALS:
            return _KEYWORD_LITERALS[token.text]
        convert = self._dialect.literals.get(token.kind)
        if convert is None:
            raise self.error(self._dialect.messages.unexpected, token=token.text)
        return convert(token.text)
