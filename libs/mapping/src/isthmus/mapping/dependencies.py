"""Which source fields each target field reads: static analysis of a flow's expression ASTs.

A source path is dotted and relative to the flow's context (``telephone1``,
``to_BusinessPartnerAddress.PhoneNumber``); list positions, ``[*]`` and filters are dropped, so
``lines[0].qty`` and ``lines[qty > 1].qty`` both read ``lines.qty``. A filter's own fields count
as read from the list (``lines[qty > 1]`` reads ``lines.qty``). Paths from the whole event start
with ``$$.`` unless they pass through the flow's context (``$$.data.name`` is ``name`` for
``context: data``). The empty path means the whole current record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from isthmus.mapping.expressions import nodes
from isthmus.mapping.expressions.parser import parse

ROOT = "$$"
_POSITION = re.compile(r"\[[^\]]*\]")


def normalise_path(path: str) -> str:
    """A field path without list positions or filters: ``a[0].b[*].c`` is ``a.b.c``."""
    return _POSITION.sub("", path)


def join(prefix: str, name: str) -> str:
    """``prefix.name`` (just ``name`` at the top)."""
    return f"{prefix}.{name}" if prefix else name


def covers(read: str, changed: str) -> bool:
    """True when a change of ``changed`` can change a value that reads ``read``.

    Either path may be the longer one: reading ``address`` is affected by ``address.city``, and
    reading ``address.city`` by a change of the whole ``address``.
    """
    if read in ("", changed):
        return True
    return changed.startswith(f"{read}.") or read.startswith(f"{changed}.")


class _Reader:
    """Collects the source paths one expression reads, inside a list scope ``prefix``."""

    def __init__(self, *, prefix: str, parent: str | None, context: str | None) -> None:
        self.prefix = prefix
        self.parent = parent
        self.context = context
        self.found: set[str] = set()

    def reads(self, node: nodes.Node) -> set[str]:
        pending = [node]
        while pending:
            current = pending.pop()
            path = self.path_of(current)
            if path is None:
                pending.extend(current.children())
                continue
            self.found.add(path)
            self._filters(current)
        return self.found

    def path_of(self, node: nodes.Node) -> str | None:
        """The static path a path-like node reads (None for calls, literals, operators)."""
        if isinstance(node, nodes.Field):
            if node.base is None:
                return join(self.prefix, node.name)
            base = self.path_of(node.base)
            return None if base is None else join(base, node.name)
        if isinstance(node, nodes.Index | nodes.Each):
            return self.path_of(node.base)
        if isinstance(node, nodes.Variable):
            return self._variable(node.name)
        return None

    def _variable(self, name: str) -> str | None:
        if name == "$":
            return self.prefix
        if name == "$$":
            return ROOT
        if name == "$parent":
            return self.parent if self.parent is not None else ROOT
        return None  # $index reads no field

    def _filters(self, node: nodes.Node | None) -> None:
        """A filter inside a path (``lines[qty > 0]``) reads fields of the list's items."""
        while isinstance(node, nodes.Field | nodes.Index | nodes.Each):
            if isinstance(node, nodes.Index):
                items = self.path_of(node.base) or self.prefix
                element = _Reader(prefix=items, parent=self.prefix, context=None)
                self.found |= element.reads(node.index) - {items}
            node = node.base


def expression_reads(
    text: str, *, prefix: str = "", parent: str | None = None, context: str | None = None
) -> frozenset[str]:
    """The source paths one expression reads.

    Raises:
        ExpressionSyntaxError: the text does not parse.
    """
    reader = _Reader(prefix=prefix, parent=parent, context=context)
    paths = reader.reads(parse(text))
    return frozenset(_relative(path, context) for path in paths)


def _relative(path: str, context: str | None) -> str:
    """``$$.data.x`` is ``x`` for ``context: data``."""
    if context and path.startswith(f"{ROOT}.{context}."):
        return path[len(ROOT) + len(context) + 2 :]
    if context and path == f"{ROOT}.{context}":
        return ""
    return path


def field_reads(
    mapping: Mapping[str, Any], *, context: str | None = None
) -> dict[str, frozenset[str]]:
    """Every leaf target field of a flow's ``mapping`` with the source paths it reads.

    Target paths are dotted with list items merged (``to_Item.Material``); a field inside a
    list or under ``when`` also reads what the list's ``each``/``each_when``/``when`` read.

    Raises:
        ExpressionSyntaxError: an expression does not parse.
    """
    result: dict[str, frozenset[str]] = {}
    _walk(mapping, target="", scope=_Scope("", None, context), inherited=frozenset(), out=result)
    return result


class _Scope:
    def __init__(self, prefix: str, parent: str | None, context: str | None) -> None:
        self.prefix = prefix
        self.parent = parent
        self.context = context

    def reads(self, text: str | None) -> frozenset[str]:
        if text is None:
            return frozenset()
        return expression_reads(text, prefix=self.prefix, parent=self.parent, context=self.context)


def _walk(
    fields: Mapping[str, Any],
    *,
    target: str,
    scope: _Scope,
    inherited: frozenset[str],
    out: dict[str, frozenset[str]],
) -> None:
    for name, spec in fields.items():
        path = join(target, name)
        if isinstance(spec, str):
            out[path] = inherited | scope.reads(spec)
            continue
        reads = inherited | scope.reads(spec.get("when"))
        if "const" in spec:
            out[path] = reads
        elif "value" in spec:
            out[path] = reads | scope.reads(spec["value"]) | scope.reads(spec.get("default"))
        elif "each" in spec or "items" in spec:
            _sequence(spec, target=path, scope=scope, inherited=reads, out=out)
        else:
            _walk(spec["fields"], target=path, scope=scope, inherited=reads, out=out)


def _sequence(
    spec: Mapping[str, Any],
    *,
    target: str,
    scope: _Scope,
    inherited: frozenset[str],
    out: dict[str, frozenset[str]],
) -> None:
    each = spec.get("each")
    if each is not None:
        reader = _Reader(prefix=scope.prefix, parent=scope.parent, context=scope.context)
        element = reader.path_of(parse(each))
        list_reads = inherited | scope.reads(each)
        inner = _Scope(
            element if element is not None else scope.prefix, scope.prefix, scope.context
        )
        list_reads |= inner.reads(spec.get("each_when"))
        _walk(spec["fields"], target=target, scope=inner, inherited=list_reads, out=out)
    for item in spec.get("items", []):
        reads = inherited | scope.reads(item.get("when"))
        _walk(item["fields"], target=target, scope=scope, inherited=reads, out=out)


def paths_read(reads: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """Every source path any target field reads."""
    return frozenset(path for paths in reads.values() for path in paths)
