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
            rest = self._counted(current)
            if rest is not None:
                pending.extend(rest)
                continue
            path = self.path_of(current)
            if path is None:
                pending.extend(current.children())
                continue
            self.found.add(path)
            self._filters(current)
        return self.found

    def _counted(self, node: nodes.Node) -> tuple[nodes.Node, ...] | None:
        """Nodes left to read when ``node`` only counts a list (None: read it as usual)."""
        del node
        return None

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


_TARGET = "\0target"  # the scope of a record check's `$`: the mapped target, not the event
_SHAPE_CALLS = frozenset({"count"})  # functions that need a list's length, not its items' fields


class _ShapeReader(_Reader):
    """A reader that tells paths whose value is used from paths only iterated or counted.

    ``found`` holds paths read as a whole value, ``shapes`` lists only counted
    (``count(lines)``): their items may leave out every field no other path reads.
    """

    def __init__(self, *, prefix: str, parent: str | None, context: str | None) -> None:
        super().__init__(prefix=prefix, parent=parent, context=context)
        self.shapes: set[str] = set()

    def _counted(self, node: nodes.Node) -> tuple[nodes.Node, ...] | None:
        if not (isinstance(node, nodes.Call) and node.name in _SHAPE_CALLS and node.args):
            return None
        counted = self.path_of(node.args[0])
        if counted is None:
            return None
        self.shapes.add(counted)
        self._filters(node.args[0])
        return node.args[1:]


class _EventPaths:
    """The event paths one flow document reads, split into whole values and shapes."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.whole: set[str | None] = set()
        self.shapes: set[str | None] = set()

    def expression(self, text: str | None, *, prefix: str = "", parent: str | None = None) -> None:
        if text is None:
            return
        reader = _ShapeReader(prefix=prefix, parent=parent, context=self.context or None)
        self.whole |= {self.absolute(path) for path in reader.reads(parse(text))}
        self.shapes |= {self.absolute(path) for path in reader.shapes}

    def absolute(self, path: str) -> str | None:
        """A path of the flow's scope (``$$.``-rooted or relative to the context) from the root."""
        if path == ROOT:
            return None
        if path.startswith(f"{ROOT}."):
            return path[len(ROOT) + 1 :]
        return join(self.context, path) if path else self.context

    def mapping(self, fields: Mapping[str, Any], *, prefix: str, parent: str | None) -> None:
        for spec in fields.values():
            if isinstance(spec, str):
                self.expression(spec, prefix=prefix, parent=parent)
                continue
            for part in ("when", "value", "default"):
                self.expression(spec.get(part), prefix=prefix, parent=parent)
            for item in spec.get("items", []):
                self.expression(item.get("when"), prefix=prefix, parent=parent)
                self.mapping(item["fields"], prefix=prefix, parent=parent)
            if "each" in spec:
                self.each(spec, prefix=prefix, parent=parent)
            elif "fields" in spec and "items" not in spec:
                self.mapping(spec["fields"], prefix=prefix, parent=parent)

    def each(self, spec: Mapping[str, Any], *, prefix: str, parent: str | None) -> None:
        """A list mapped item by item: iterating it reads its items only where fields say so."""
        node = parse(spec["each"])
        reader = _ShapeReader(prefix=prefix, parent=parent, context=self.context or None)
        element = reader.path_of(node)
        if element is None:  # a computed list (``distinct(lines)``): its items are used whole
            self.expression(spec["each"], prefix=prefix, parent=parent)
            inner = prefix
        else:
            self.shapes.add(self.absolute(element))
            reader._filters(node)
            self.whole |= {self.absolute(path) for path in reader.found}
            inner = element
        self.expression(spec.get("each_when"), prefix=inner, parent=prefix)
        self.mapping(spec["fields"], prefix=inner, parent=prefix)


def event_reads(document: Mapping[str, Any]) -> frozenset[str] | None:
    """Every path of the source event a flow document reads, from the event's root.

    Paths are dotted (``data.order_details.quantity``) and cover the trigger condition, the
    context, the target key, the mapping, the record checks' ``$$`` reads and the loop
    prevention's origin. A list that is only iterated (``each:``) or counted (``count()``)
    appears with the fields read from its items; if nothing is read from them, as the list
    itself. None when some expression reads the whole event or the context is not a plain
    path: then nothing may be left out of the event.

    Raises:
        ExpressionSyntaxError: an expression does not parse.
    """
    context_text = document.get("context")
    context = ""
    if context_text is not None:
        found = _Reader(prefix="", parent=None, context=None).path_of(parse(context_text))
        if not found or found.startswith(ROOT):
            return None
        context = found
    paths = _EventPaths(context)
    paths.mapping(document["mapping"], prefix="", parent=None)
    origin = (document.get("loop_prevention") or {}).get("origin")
    for text in (document["trigger"].get("condition"), document["target"].get("key"), origin):
        paths.expression(text)
    checks = _EventPaths("")
    for check in document.get("checks", []):
        checks.expression(check["rule"], prefix=_TARGET, parent=_TARGET)
    paths.whole |= {path for path in checks.whole if path and not path.startswith(_TARGET)}
    paths.shapes |= {path for path in checks.shapes if path and not path.startswith(_TARGET)}
    whole, shapes = paths.whole, paths.shapes
    if None in whole or "" in whole or None in shapes or "" in shapes:
        return None
    known = {path for path in whole if path is not None}
    # A counted or iterated list from which no field is read is kept as a whole value.
    known |= {
        path
        for path in shapes
        if path is not None and not any(other.startswith(f"{path}.") for other in known)
    }
    return frozenset(known)
