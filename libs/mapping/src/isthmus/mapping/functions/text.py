"""String functions, including name and address splitting."""

from __future__ import annotations

import re
import textwrap
from typing import Any

from isthmus.mapping.errors import EvaluationError
from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.functions.registry import Function, fn
from isthmus.mapping.values import as_list, integer, text

_HOUSE_NUMBER_LAST = re.compile(
    r"^(?P<street>.*?\D)\s+(?P<number>\d+\s?[A-Za-z]?(?:[-/]\d+[A-Za-z]?)?)$"
)
_HOUSE_NUMBER_FIRST = re.compile(r"^(?P<number>\d+[A-Za-z]?(?:[-/]\d+)?)\s+(?P<street>\D.*)$")
_MAX_WIDTH = 10_000
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def concat(*parts: Any) -> str:
    """Join values as text; nulls count as empty strings."""
    return "".join(to_string(part) or "" for part in parts)


def substring(value: Any, start: Any, length: Any = None) -> str:
    """Characters from `start` (0-based), `length` of them or to the end."""
    source = text(value, where="substring")
    begin = integer(start, where="substring start")
    if length is None:
        return source[begin:]
    return source[begin : begin + integer(length, where="substring length")]


def split(value: Any, separator: Any) -> list[str]:
    """Split at every separator."""
    sep = text(separator, where="split separator")
    if not sep:
        raise EvaluationError("split separator must not be empty")
    return text(value, where="split").split(sep)


def join(values: Any, separator: Any = "") -> str:
    """Join the items of a list with a separator, leaving out nulls and empty strings."""
    sep = text(separator, where="join separator")
    parts = (to_string(item) for item in as_list(values) if item is not None)
    return sep.join(part for part in parts if part)


def _pad(value: Any, width: Any, fill: Any, *, left: bool) -> str:
    source = to_string(value) or ""
    filler = text(fill, where="pad character")
    if len(filler) != 1:
        raise EvaluationError(f"pad character must be one character, got {filler!r}")
    size = integer(width, where="pad width")
    if size > _MAX_WIDTH:
        raise EvaluationError(f"pad width {size} is above {_MAX_WIDTH}")
    return source.rjust(size, filler) if left else source.ljust(size, filler)


def pad_left(value: Any, width: Any, fill: Any = " ") -> str:
    """Pad on the left to a width (e.g. SAP leading zeros: pad_left(x, 10, '0'))."""
    return _pad(value, width, fill, left=True)


def pad_right(value: Any, width: Any, fill: Any = " ") -> str:
    """Pad on the right to a width."""
    return _pad(value, width, fill, left=False)


def strip_zeros(value: Any) -> str:
    """Remove leading zeros from a numeric SAP key ('0005200000' -> '5200000')."""
    return text(value, where="strip_zeros").lstrip("0") or "0"


def replace(value: Any, old: Any, new: Any) -> str:
    """Replace every occurrence of `old` by `new`."""
    return text(value, where="replace").replace(
        text(old, where="replace"), text(new, where="replace")
    )


def _name_parts(value: Any) -> list[str]:
    return text(value, where="name split").split()


def first_name(value: Any) -> str | None:
    """Every word of a full name but the last ('Anna Maria Schmidt' -> 'Anna Maria')."""
    parts = _name_parts(value)
    return " ".join(parts[:-1]) if len(parts) > 1 else None


def last_name(value: Any) -> str | None:
    """The last word of a full name ('Anna Maria Schmidt' -> 'Schmidt')."""
    parts = _name_parts(value)
    return parts[-1] if parts else None


def _street_match(value: Any) -> re.Match[str] | None:
    line = text(value, where="address split").strip()
    return _HOUSE_NUMBER_LAST.match(line) or _HOUSE_NUMBER_FIRST.match(line)


def street_name(value: Any) -> str:
    """The street of an address line ('Dietmar-Hopp-Allee 16' -> 'Dietmar-Hopp-Allee')."""
    match = _street_match(value)
    return match.group("street").strip() if match else text(value, where="street_name").strip()


def house_number(value: Any) -> str | None:
    """The house number of an address line ('1 Microsoft Way' -> '1'), null when there is none."""
    match = _street_match(value)
    return match.group("number").strip() if match else None


def line(value: Any, position: Any) -> str | None:
    """Line `position` (1-based) of a multi-line text such as an address composite."""
    lines = [part.strip() for part in _LINE_BREAKS.split(text(value, where="line"))]
    index = integer(position, where="line position")
    return lines[index - 1] if 0 < index <= len(lines) else None


def wrap_line(value: Any, width: Any, position: Any) -> str | None:
    """Line `position` (1-based) of a text wrapped at word boundaries to `width` characters.

    Splits a long name over SAP's 40-character name fields without cutting words.
    """
    size = integer(width, where="wrap width")
    if size < 1:
        raise EvaluationError(f"wrap width must be positive, got {size}")
    lines = textwrap.wrap(text(value, where="wrap_line"), size, break_on_hyphens=False)
    index = integer(position, where="wrap position")
    return lines[index - 1] if 0 < index <= len(lines) else None


def _length(value: Any) -> int:
    if isinstance(value, str | list):
        return len(value)
    raise EvaluationError(f"length needs a string or list, got {value!r}")


FUNCTIONS: tuple[Function, ...] = (
    fn("concat", concat, (1, None), "join values as text", null_in_null_out=False),
    fn("upper", lambda v: text(v, where="upper").upper(), (1, 1), "upper case"),
    fn("lower", lambda v: text(v, where="lower").lower(), (1, 1), "lower case"),
    fn("trim", lambda v: text(v, where="trim").strip(), (1, 1), "remove outer blanks"),
    fn("substring", substring, (2, 3), "part of a string"),
    fn("split", split, (2, 2), "split into a list"),
    fn("join", join, (1, 2), "join a list into text"),
    fn("pad_left", pad_left, (2, 3), "pad on the left"),
    fn("pad_right", pad_right, (2, 3), "pad on the right"),
    fn("strip_zeros", strip_zeros, (1, 1), "remove leading zeros"),
    fn("replace", replace, (3, 3), "replace text"),
    fn("length", _length, (1, 1), "length of a string or list"),
    fn(
        "contains",
        lambda v, p: text(p, where="contains") in text(v, where="contains"),
        (2, 2),
        "substring test",
    ),
    fn(
        "starts_with",
        lambda v, p: text(v, where="starts_with").startswith(text(p, where="starts_with")),
        (2, 2),
        "prefix test",
    ),
    fn("first_name", first_name, (1, 1), "given names of a full name"),
    fn("last_name", last_name, (1, 1), "family name of a full name"),
    fn("street_name", street_name, (1, 1), "street of an address line"),
    fn("house_number", house_number, (1, 1), "house number of an address line"),
    fn("line", line, (2, 2), "one line of a multi-line text"),
    fn("wrap_line", wrap_line, (3, 3), "one line of a word-wrapped text"),
)
