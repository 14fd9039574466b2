"""The ``$filter`` dialects: OData V4 as Dataverse speaks it, OData V2 as SAP Gateway does."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from isthmus.sandbox_kit.odata_date import parse_iso, to_ms
from isthmus.sandbox_kit.odata_filter.errors import FilterSyntaxError
from isthmus.sandbox_kit.odata_filter.syntax import Literal


@dataclass(frozen=True)
class Messages:
    """The error texts of a dialect, as ``str.format`` templates.

    ``bad_character`` gets ``position``, ``trimmed`` (the expression without trailing blanks) and
    ``rest`` (the expression from the bad character on); ``incomplete`` gets ``text`` and
    ``wanted`` (the token expected, or ``term``); ``trailing`` gets ``text`` and ``token``;
    ``unexpected`` gets ``token``.
    """

    bad_character: str
    incomplete: str
    trailing: str
    unexpected: str


@dataclass(frozen=True)
class Dialect:
    """What one OData server accepts in ``$filter`` and how it compares values.

    ``tokens`` is the token regex: its named groups are the token kinds; ``name`` and ``punct``
    drive the grammar, every other kind is a literal that ``literals`` converts. Which
    punctuation exists decides the rest: ``[...]`` list literals and ``/`` path steps are V4
    tokens, while a V2 name carries its ``/`` steps inside. ``functions`` maps each text
    function to its arity; ``unknown_function`` is the message (given ``name``) for a call of
    any other name, or None where any name parses and the server decides later (Dataverse's
    ``Microsoft.Dynamics.CRM.*`` query functions).
    ``named_arguments`` allows ``Name=value`` parameters and lets separators be left out;
    without it a call is one or more comma-separated expressions. ``case_insensitive`` text
    comparison is Dataverse's (SQL collation); SAP compares as stored.
    """

    name: str
    tokens: re.Pattern[str]
    literals: Mapping[str, Callable[[str], Literal]]
    functions: Mapping[str, int]
    unknown_function: str | None
    named_arguments: bool
    case_insensitive: bool
    messages: Messages

    def normalise(self, value: Any) -> Any:
        """``value`` as this server compares it (strings casefolded where case does not count)."""
        if self.case_insensitive and isinstance(value, str):
            return value.casefold()
        return value


def _quoted(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _v4_number(text: str) -> Literal:
    raw = text.rstrip("mMdDfFlL")
    value: float | int = float(raw) if any(c in raw for c in ".eE") else int(raw)
    return Literal(value, "number")


_DATAVERSE_MESSAGES = Messages(
    bad_character="Syntax error at position {position} in '{trimmed}'.",
    incomplete="Syntax error in '{text}'.",
    trailing="Syntax error in '{text}'.",
    unexpected="Syntax error: unexpected '{token}' in the $filter expression.",
)


def _v2_number(text: str) -> Literal:
    stripped = text.rstrip("mMdDfFlL")
    if re.fullmatch(r"-?\d+", stripped) and stripped == text:
        return Literal(int(stripped), "number")
    return Literal(Decimal(stripped), "number")


def _v2_typed(text: str) -> Literal:
    prefix, _, rest = text.partition("'")
    body = rest[:-1].replace("''", "'")
    if prefix in {"datetime", "datetimeoffset"}:
        try:
            return Literal(to_ms(parse_iso(body)), prefix)
        except ValueError as exc:
            raise FilterSyntaxError(f"Invalid {prefix} literal '{body}'") from exc
    if prefix == "guid":
        return Literal(body.lower(), prefix)
    return Literal(body, prefix)


_GATEWAY_MESSAGES = Messages(
    bad_character="Invalid filter expression near '{rest}'",
    incomplete="Invalid filter expression: expected '{wanted}'",
    trailing="Invalid filter expression near '{token}'",
    unexpected="Invalid filter expression near '{token}'",
)

V4 = Dialect(
    name="OData V4 (Dataverse)",
    tokens=re.compile(
        r"""\s*(?:
        (?P<string>'(?:[^']|'')*')
      | (?P<dstring>"(?:[^"\\]|\\.)*")
      | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}
                 -[0-9a-fA-F]{12}(?![\w-]))
      | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)
      | (?P<date>\d{4}-\d{2}-\d{2}(?![\w-]))
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?(?![\w]))
      | (?P<name>[A-Za-z_][\w.]*)
      | (?P<punct>[(),/\[\]=])
        )""",
        re.VERBOSE,
    ),
    literals={
        "string": lambda t: Literal(_quoted(t), "string"),
        "dstring": lambda t: Literal(t[1:-1].replace('\\"', '"'), "string"),
        "guid": lambda t: Literal(t.lower(), "guid"),
        "datetime": lambda t: Literal(t, "datetime"),
        "date": lambda t: Literal(t, "date"),
        "number": _v4_number,
    },
    functions={"contains": 2, "startswith": 2, "endswith": 2},
    unknown_function=None,
    named_arguments=True,
    case_insensitive=True,
    messages=_DATAVERSE_MESSAGES,
)
"""Dataverse Web API: GUIDs, dates and date-times unquoted (kept as written), ``[..]`` lists,
``Name=value`` function parameters, ``contains``/``startswith``/``endswith``, lookup paths
``a/b``, case-insensitive text."""

V2 = Dialect(
    name="OData V2 (SAP Gateway)",
    tokens=re.compile(
        r"""\s*(?:
        (?P<typed>(?:datetimeoffset|datetime|guid|time)'(?:[^']|'')*')
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
      | (?P<punct>[(),])
      | (?P<name>[A-Za-z_][A-Za-z0-9_/.]*)
        )""",
        re.VERBOSE,
    ),
    literals={
        "typed": _v2_typed,
        "string": lambda t: Literal(_quoted(t), "string"),
        "number": _v2_number,
    },
    functions={
        "substringof": 2,
        "startswith": 2,
        "endswith": 2,
        "tolower": 1,
        "toupper": 1,
        "length": 1,
    },
    unknown_function="Function '{name}' is not supported",
    named_arguments=False,
    case_insensitive=False,
    messages=_GATEWAY_MESSAGES,
)
"""SAP Gateway: typed literals ``datetime'..'``/``datetimeoffset'..'`` (as epoch ms),
``guid'..'``, ``time'..'``; integers or ``Decimal``; ``substringof``, ``startswith``,
``endswith``, ``tolower``, ``toupper``, ``length``; case-sensitive text."""
