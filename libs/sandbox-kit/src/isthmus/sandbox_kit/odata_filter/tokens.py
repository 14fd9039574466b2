"""Splitting a ``$filter`` expression into the tokens of a dialect."""

from __future__ import annotations

from dataclasses import dataclass

from isthmus.sandbox_kit.odata_filter.dialect import Dialect
from isthmus.sandbox_kit.odata_filter.errors import FilterSyntaxError


@dataclass(frozen=True)
class Token:
    """One lexical token; ``kind`` is the name of the dialect's regex group that matched."""

    kind: str
    text: str


def tokenize(text: str, *, dialect: Dialect) -> list[Token]:
    """The tokens of ``text`` (trailing blanks ignored).

    Raises:
        FilterSyntaxError: a character sequence that is no token of the dialect.
    """
    tokens: list[Token] = []
    position = 0
    end = len(text.rstrip())
    while position < end:
        match = dialect.tokens.match(text, position)
        if match is None or match.end() == position:
            message = dialect.messages.bad_character.format(
                position=position, trimmed=text[:end], rest=text[position:]
            )
            raise FilterSyntaxError(message)
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens
