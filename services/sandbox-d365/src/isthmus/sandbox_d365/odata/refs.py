"""Entity addresses: ``accounts(<guid>)``, ``accounts(accountnumber='A-1')`` and bind URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.query import scan_nesting, split_top_level
from isthmus.sandbox_d365.odata.schema import Catalogue, Table

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION_PREFIX = re.compile(r"^/?api/data/v9\.[0-2]/")


@dataclass(frozen=True)
class KeyRef:
    """A primary key GUID or a set of alternate key values."""

    row_id: str | None = None
    values: tuple[tuple[str, Any], ...] = ()

    def text(self) -> str:
        """The key as it appears in a URL."""
        if self.row_id is not None:
            return self.row_id
        return ",".join(f"{k}={_literal_text(v)}" for k, v in self.values)


@dataclass(frozen=True)
class EntityPath:
    """A parsed resource path: entity set, optional key, optional trailing segments."""

    entity_set: str
    key: str | None
    rest: tuple[str, ...]


def _literal_text(value: Any) -> str:
    if isinstance(value, str) and not GUID.match(value):
        return "'" + value.replace("'", "''") + "'"
    return str(value)


def split_path(path: str) -> EntityPath:
    """``salesorders(<id>)/order_details`` → set, key text and remaining segments.

    Raises:
        QueryError: unbalanced parentheses or quotes.
    """
    path = unquote(path).strip("/")
    open_at = path.find("(")
    slash_at = path.find("/")
    if open_at == -1 or (slash_at != -1 and slash_at < open_at):
        head, _, tail = path.partition("/")
        return EntityPath(head, None, tuple(s for s in tail.split("/") if s))
    close_at = -1
    for index, char, depth, quoted in scan_nesting(path, open_at):
        if char == ")" and not quoted and depth == 0:
            close_at = index
            break
    if close_at == -1:
        raise QueryError(f"Bad Request - Error in query syntax: '{path}'.")
    tail = path[close_at + 1 :].strip("/")
    return EntityPath(
        path[:open_at], path[open_at + 1 : close_at], tuple(tail.split("/")) if tail else ()
    )


def parse_key(text: str, table: Table) -> KeyRef:
    """Parse the inside of ``(...)`` of an entity address.

    Raises:
        QueryError: malformed key or a key the table does not declare.
    """
    text = text.strip()
    if GUID.match(text):
        return KeyRef(row_id=text.lower())
    pairs: list[tuple[str, Any]] = []
    for part in split_top_level(text, ","):
        name, sep, raw = part.partition("=")
        if not sep:
            raise QueryError(f"Bad Request - Error in query syntax: invalid key '{text}'.")
        pairs.append((name.strip(), _key_value(raw.strip())))
    names = tuple(sorted(n for n, _ in pairs))
    if names == (table.key,) and isinstance(pairs[0][1], str) and GUID.match(pairs[0][1]):
        return KeyRef(row_id=pairs[0][1].lower())
    declared = {tuple(sorted(k)): k for k in table.alternate_keys}
    if names not in declared:
        raise QueryError(
            f"The key {text} does not match any key defined for the table '{table.logical}'."
        )
    ordered = dict(pairs)
    return KeyRef(values=tuple((c, ordered[c]) for c in declared[names]))


def _key_value(raw: str) -> Any:
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:  # noqa: PLR2004
        return raw[1:-1].replace("''", "'")
    if GUID.match(raw):
        return raw.lower()
    try:
        return int(raw)
    except ValueError:
        pass
    try:
        return float(raw)
    except ValueError as exc:
        raise QueryError(f"Bad Request - Error in query syntax: key value {raw}.") from exc


def parse_reference(value: str, catalogue: Catalogue) -> tuple[Table, KeyRef]:
    """An ``@odata.bind`` / ``@odata.id`` value: relative, root-relative or absolute URL.

    Raises:
        QueryError: the value does not address one row of a known entity set.
    """
    path = urlsplit(value).path if "://" in value else value
    path = _VERSION_PREFIX.sub("", path.lstrip("/") if "/api/data/" in path else path)
    path = path.lstrip("/")
    parsed = split_path(path)
    table = catalogue.by_set.get(parsed.entity_set)
    if table is None or parsed.key is None or parsed.rest:
        raise QueryError(f"The URI '{value}' is not valid for a single entity reference.")
    return table, parse_key(parsed.key, table)
