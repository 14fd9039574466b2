"""Compiles `lookup`, `lookup_reverse`, `xref` and `xref_d365` calls: a miss is never filled in."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from isthmus.mapping.errors import FlowDefinitionError, LookupMissError
from isthmus.mapping.expressions import nodes
from isthmus.mapping.expressions.scope import Evaluator, Scope
from isthmus.mapping.functions.conversion import to_string
from isthmus.mapping.lookups import StaticTable

_STATIC = frozenset({"lookup", "lookup_reverse"})
_DYNAMIC = frozenset({"xref", "xref_d365"})
ErrorFactory = Callable[[str, nodes.Node], FlowDefinitionError]


def is_lookup(name: str) -> bool:
    """True for the four lookup functions."""
    return name in _STATIC or name in _DYNAMIC


def compile_lookup(
    node: nodes.Call,
    args: list[Evaluator],
    *,
    tables: Mapping[str, StaticTable],
    error: ErrorFactory,
) -> Evaluator:
    """Compile one lookup call; the table or entity name must be a literal string.

    `lookup(table, key[, default])` reads a static table forwards, `lookup_reverse` backwards;
    `xref(entity, d365_id[, default])` asks the LookupPort for the S/4 id and `xref_d365(entity,
    s4_id[, default])` for the Dataverse id. A null key gives null.

    Raises:
        FlowDefinitionError: wrong arguments or an unknown table.
    """
    name = _literal_name(node, error)
    default = args[2] if len(args) == 3 else None  # noqa: PLR2004 - name, key, default
    if node.name in _DYNAMIC:
        return _dynamic(node.name, name, args[1], default)
    table = tables.get(name)
    if table is None:
        known = ", ".join(sorted(tables)) or "none"
        raise error(f"unknown lookup table {name!r} (known: {known})", node.args[0])
    if node.name == "lookup_reverse":
        try:
            table.check_reversible()
        except FlowDefinitionError as exc:
            raise error(exc.reason, node.args[0]) from None
        return _static(table.name, table.reverse, args[1], default)
    return _static(table.name, table.forward, args[1], default)


def _literal_name(node: nodes.Call, error: ErrorFactory) -> str:
    if not 2 <= len(node.args) <= 3:  # noqa: PLR2004 - name, key and an optional default
        raise error(f"{node.name}(name, key[, default]) takes 2 or 3 arguments", node)
    name_node = node.args[0]
    if not isinstance(name_node, nodes.Literal) or not isinstance(name_node.value, str):
        raise error(f"the first argument of {node.name}() must be a quoted name", name_node)
    return name_node.value


def _static(
    name: str, entries: Mapping[str, str], key: Evaluator, default: Evaluator | None
) -> Evaluator:
    def lookup(scope: Scope) -> Any:
        raw = key(scope)
        if raw is None:
            return None
        found = entries.get(raw if type(raw) is str else (to_string(raw) or ""))
        if found is not None:
            return found
        if default is not None:
            return default(scope)
        raise LookupMissError(table=name, key=raw)

    return lookup


def _dynamic(function: str, entity: str, key: Evaluator, default: Evaluator | None) -> Evaluator:
    to_s4 = function == "xref"
    label = f"xref {entity} d365->s4" if to_s4 else f"xref {entity} s4->d365"

    def xref(scope: Scope) -> Any:
        raw = key(scope)
        if raw is None:
            return None
        identifier = raw if type(raw) is str else (to_string(raw) or "")
        ports = scope.lookups
        found = (
            ports.s4_id(entity=entity, d365_id=identifier)
            if to_s4
            else ports.d365_id(entity=entity, s4_id=identifier)
        )
        if found is not None:
            return found
        if default is not None:
            return default(scope)
        raise LookupMissError(table=label, key=raw)

    return xref
