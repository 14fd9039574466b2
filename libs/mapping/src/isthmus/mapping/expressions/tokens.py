"""Tokenizer of the expression language: turns expression text into a list of tokens."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from isthmus.mapping.errors import ExpressionSyntaxError


class Kind(Enum):
    """Token kinds."""

    NUMBER = "number"
    STRING = "string"
    NAME = "name"
    VARIABLE = "variable"
    OP = "operator"
    END = "end"


KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false", "null"})
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%", "&", "?", ":")
_PUNCTUATION = "()[],."
_DIGITS = frozenset("0123456789")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True, slots=True)
class Token:
    """One token with its text and the column where it starts."""

    kind: Kind
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens.

    Raises:
        ExpressionSyntaxError: on a character or literal the language does not know.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char.isspace():
            pos += 1
            continue
        token, pos = _next_token(text, pos)
        tokens.append(token)
    tokens.append(Token(Kind.END, "", len(text)))
    return tokens


def _next_token(text: str, pos: int) -> tuple[Token, int]:  # noqa: PLR0911 - one per kind
    char = text[pos]
    if char in _DIGITS:
        return _number(text, pos)
    if char in "'\"":
        return _string(text, pos)
    if char == "`":
        return _quoted_name(text, pos)
    if char.isalpha() or char == "_":
        end = _name_end(text, pos)
        return Token(Kind.NAME, text[pos:end], pos), end
    if char == "$":
        return _variable(text, pos)
    for op in _OPERATORS:
        if text.startswith(op, pos):
            return Token(Kind.OP, op, pos), pos + len(op)
    if char in _PUNCTUATION:
        return Token(Kind.OP, char, pos), pos + 1
    raise ExpressionSyntaxError(f"unexpected character {char!r}", expression=text, column=pos)


def _name_end(text: str, pos: int) -> int:
    while pos < len(text) and (text[pos].isalnum() or text[pos] == "_"):
        pos += 1
    return pos


def _number(text: str, start: int) -> tuple[Token, int]:
    pos = start
    while pos < len(text) and text[pos] in _DIGITS:
        pos += 1
    if pos + 1 < len(text) and text[pos] == "." and text[pos + 1] in _DIGITS:
        pos += 1
        while pos < len(text) and text[pos] in _DIGITS:
            pos += 1
    return Token(Kind.NUMBER, text[start:pos], start), pos


def _string(text: str, start: int) -> tuple[Token, int]:
    quote = text[start]
    pos = start + 1
    chars: list[str] = []
    while pos < len(text):
        char = text[pos]
        if char == quote:
            return Token(Kind.STRING, "".join(chars), start), pos + 1
        if char == "\\" and pos + 1 < len(text):
            escaped = _ESCAPES.get(text[pos + 1])
            if escaped is None:
                raise ExpressionSyntaxError(
                    f"unknown escape \\{text[pos + 1]}", expression=text, column=pos
                )
            chars.append(escaped)
            pos += 2
            continue
        chars.append(char)
        pos += 1
    raise ExpressionSyntaxError("string is not closed", expression=text, column=start)


def _quoted_name(text: str, start: int) -> tuple[Token, int]:
    end = text.find("`", start + 1)
    if end < 0:
        raise ExpressionSyntaxError(
            "quoted field name is not closed", expression=text, column=start
        )
    return Token(Kind.NAME, text[start + 1 : end], start), end + 1


def _variable(text: str, start: int) -> tuple[Token, int]:
    if text.startswith("$$", start):
        return Token(Kind.VARIABLE, "$$", start), start + 2
    end = _name_end(text, start + 1)
    return Token(Kind.VARIABLE, text[start:end], start), end
