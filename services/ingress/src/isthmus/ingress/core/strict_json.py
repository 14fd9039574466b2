"""Strict JSON for request bodies: one value per key, finite numbers, bounded depth, valid text.

Python's ``json`` accepts what no sender means and what later fails as a server error: the last
of two equal keys wins silently (an ``Update`` followed by ``Delete`` becomes a delete), ``NaN``
and ``Infinity`` pass, lone surrogates (``"\\ud800"``) decode into strings that cannot be
encoded again, and a document nested a thousand levels deep raises ``RecursionError``. Each of
these is refused here as malformed input, so the caller gets a 400 and never a 5xx.
"""

from __future__ import annotations

import json
from typing import Any

from isthmus.ingress.errors import MalformedError

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays a body may have (Dataverse contexts use about 10)."""


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The JSON document of a request body, refused unless it is unambiguous.

    Raises:
        MalformedError: not JSON, a duplicated key, a non-finite number, a lone surrogate in a
            string or key, or nesting deeper than ``max_depth``.
    """
    try:
        document = json.loads(raw, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
    except RecursionError as exc:
        raise MalformedError(f"body is nested deeper than {max_depth} levels") from exc
    except MalformedError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedError(f"body is not JSON: {exc}") from exc
    _check_tree(document, max_depth=max_depth)
    return document


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise MalformedError(f"body is not JSON: key {_quoted(key)} appears more than once")
        document[key] = value
    return document


def _no_constant(name: str) -> Any:
    raise MalformedError(f"body is not JSON: {name} is not a JSON number")


def _check_tree(document: Any, *, max_depth: int) -> None:
    """Walk the document without recursion: depth, and text that UTF-8 can encode."""
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, str):
            _check_text(node)
            continue
        if not isinstance(node, dict | list):
            continue
        if depth >= max_depth:
            raise MalformedError(f"body is nested deeper than {max_depth} levels")
        if isinstance(node, dict):
            for key, value in node.items():
                _check_text(key)
                pending.append((value, depth + 1))
        else:
            pending.extend((value, depth + 1) for value in node)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedError(
            f"body is not valid text: lone surrogate \\u{ord(text[exc.start]):04x} in a string"
        ) from exc


def _quoted(key: str) -> str:
    return json.dumps(key[:80])
