"""System query options: $select, $filter, $orderby, $top, $expand and $count."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_kit.odata_filter import V4, FilterSyntaxError, Node, parse

_SUPPORTED = {
    "$select",
    "$filter",
    "$orderby",
    "$top",
    "$expand",
    "$count",
    "$skiptoken",
    "$deltatoken",
    "$apply",
}


@dataclass(frozen=True)
class Query:
    """Parsed options of one collection or entity request (or one ``$expand`` level)."""

    select: tuple[str, ...] | None = None
    filter: Node | None = None
    orderby: tuple[tuple[str, bool], ...] = ()
    top: int | None = None
    count: bool = False
    expand: dict[str, Query] = field(default_factory=dict)
    skiptoken: str | None = None
    deltatoken: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict)


def parse_query(options: Mapping[str, str]) -> Query:
    """Parse the ``$``-options of a URL query string.

    Raises:
        QueryError: unknown or unsupported option (``$skip``), or an invalid value.
    """
    for name in options:
        if name == "$skip":
            raise QueryError("The query parameter $skip is not supported")
        if name.startswith("$") and name not in _SUPPORTED:
            raise QueryError(f"The query parameter {name} is not supported")
    if "$apply" in options:
        raise QueryError("The query parameter $apply is not supported by the sandbox")
    return Query(
        select=_select(options.get("$select")),
        filter=parse_filter(options["$filter"]) if options.get("$filter") else None,
        orderby=_orderby(options.get("$orderby")),
        top=_top(options.get("$top")),
        count=_count(options.get("$count")),
        expand=_expand(options.get("$expand")),
        skiptoken=options.get("$skiptoken"),
        deltatoken=options.get("$deltatoken"),
        raw=dict(options),
    )


def parse_filter(text: str) -> Node:
    """The syntax tree of a ``$filter`` value in Dataverse's OData V4.

    Raises:
        QueryError: the expression is not valid.
    """
    try:
        return parse(text, dialect=V4)
    except FilterSyntaxError as exc:
        raise QueryError(exc.message) from exc


def _select(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    return names or None


def _orderby(value: str | None) -> tuple[tuple[str, bool], ...]:
    if not value:
        return ()
    result = []
    for part in value.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):  # noqa: PLR2004
            raise QueryError(f"Syntax error in $orderby '{value}'.")
        result.append((words[0], len(words) == 2 and words[1] == "desc"))  # noqa: PLR2004
    return tuple(result)


def _top(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise QueryError(f"Invalid value '{value}' for $top query option found.")
    return int(value)


def _count(value: str | None) -> bool:
    if value is None:
        return False
    if value not in ("true", "false"):
        raise QueryError(f"'{value}' is not a valid count option.")
    return value == "true"


def scan_nesting(text: str, start: int = 0) -> Iterator[tuple[int, str, int, bool]]:
    """Each character from ``start`` with its index, the parenthesis depth and quoting after it."""
    depth, quoted = 0, False
    for index in range(start, len(text)):
        char = text[index]
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        yield index, char, depth, quoted


def split_top_level(text: str, separator: str) -> list[str]:
    """Split on ``separator`` outside parentheses and quotes."""
    parts: list[str] = []
    current: list[str] = []
    for _, char, depth, quoted in scan_nesting(text):
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p for p in (x.strip() for x in parts) if p]


def _expand(value: str | None) -> dict[str, Query]:
    if not value:
        return {}
    result: dict[str, Query] = {}
    for item in split_top_level(value, ","):
        name, _, rest = item.partition("(")
        options: dict[str, str] = {}
        if rest:
            if not rest.endswith(")"):
                raise QueryError(f"Syntax error in $expand '{value}'.")
            for option in split_top_level(rest[:-1], ";"):
                key, _, val = option.partition("=")
                options[key.strip()] = val.strip()
        result[name.strip()] = parse_query(options)
    return result
