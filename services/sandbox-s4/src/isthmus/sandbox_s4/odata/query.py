"""OData V2 query options: parse them, evaluate `$filter` ASTs, sort and page rows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from isthmus.sandbox_kit.odata_filter import V2, FilterSyntaxError, apply_function, compare, parse
from isthmus.sandbox_kit.odata_filter.syntax import Call, Compare, Literal, Logical, Node, Not, Prop
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.edm import EntityType, Property
from isthmus.sandbox_s4.odata.values import typed

Row = dict[str, Any]


@dataclass
class QueryOptions:
    """The system query options of one request."""

    filter: Node | None = None
    select: list[str] = field(default_factory=list)
    expand: list[list[str]] = field(default_factory=list)
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    skiptoken: int | None = None
    inlinecount: bool = False
    json: bool = False


def _int_option(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise MalformedRequestError(f"Invalid value '{raw}' for system query option {name}")
    return int(raw)


def _orderby(raw: str) -> list[tuple[str, bool]]:
    result = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, direction = part.partition(" ")
        result.append((name.strip(), direction.strip().lower() == "desc"))
    return result


def parse_filter(*, text: str) -> Node:
    """The syntax tree of a `$filter` value in SAP Gateway's OData V2.

    Raises:
        MalformedRequestError: the expression is not valid V2 filter syntax.
    """
    try:
        return parse(text, dialect=V2)
    except FilterSyntaxError as exc:
        raise MalformedRequestError(exc.message) from exc


def parse_options(*, params: Mapping[str, str], accept: str) -> QueryOptions:
    """Read `$filter`, `$select`, `$expand`, `$orderby`, `$top`, `$skip`, ... from the query.

    Raises:
        MalformedRequestError: an option has an invalid value.
    """
    inlinecount = params.get("$inlinecount", "none")
    if inlinecount not in {"allpages", "none"}:
        raise MalformedRequestError(f"Invalid value '{inlinecount}' for $inlinecount")
    fmt = params.get("$format", "")
    return QueryOptions(
        filter=parse_filter(text=params["$filter"]) if params.get("$filter") else None,
        select=[s.strip() for s in params.get("$select", "").split(",") if s.strip()],
        expand=[e.strip().split("/") for e in params.get("$expand", "").split(",") if e.strip()],
        orderby=_orderby(params.get("$orderby", "")),
        top=_int_option(params, "$top"),
        skip=_int_option(params, "$skip") or 0,
        skiptoken=_int_option(params, "$skiptoken"),
        inlinecount=inlinecount == "allpages",
        json=fmt == "json" or (not fmt and "application/json" in accept),
    )


def _coerce(entity: EntityType, ref: Node, literal: Node) -> Node:
    if not (isinstance(ref, Prop) and isinstance(literal, Literal)):
        return literal
    prop = entity.properties[ref.name]
    value = literal.value
    if value is None:
        return literal
    if prop.edm_type == "Edm.Decimal" and not isinstance(value, bool):
        return Literal(Decimal(str(value)), "number")
    if prop.edm_type == "Edm.String" and isinstance(value, int | Decimal):
        return Literal(str(value), "string")
    return literal


def bind(*, node: Node, entity: EntityType) -> Node:
    """Check property names against the entity type and give literals the property's type.

    Raises:
        MalformedRequestError: the filter names a property the type does not have.
    """
    if isinstance(node, Prop):
        if node.name not in entity.properties:
            raise MalformedRequestError(
                f"Property {node.name} not found in type {entity.name}",
                code="/IWBEP/CM_MGW_RT/022",
            )
        return node
    if isinstance(node, Compare):
        left, right = bind(node=node.left, entity=entity), bind(node=node.right, entity=entity)
        return Compare(node.op, _coerce(entity, right, left), _coerce(entity, left, right))
    if isinstance(node, Logical):
        left, right = bind(node=node.left, entity=entity), bind(node=node.right, entity=entity)
        return Logical(node.op, left, right)
    if isinstance(node, Not):
        return Not(bind(node=node.operand, entity=entity))
    if isinstance(node, Call):
        return Call(node.name, tuple(bind(node=a, entity=entity) for a in node.args))
    return node


def _call(name: str, args: list[Any]) -> Any:
    text = [str(a) if a is not None else "" for a in args]
    arity = V2.functions[name]
    if len(text) < arity:
        raise MalformedRequestError(f"Wrong number of arguments for function {name}")
    return apply_function(name, text[:arity])


def _compare(node: Compare, value_of: Callable[[str], Any]) -> bool:
    left = evaluate(node=node.left, value_of=value_of)
    right = evaluate(node=node.right, value_of=value_of)
    try:
        return compare(node.op, left, right)
    except TypeError as exc:
        raise MalformedRequestError("Incompatible types in filter comparison") from exc


def _logical(node: Logical, value_of: Callable[[str], Any]) -> bool:
    left = bool(evaluate(node=node.left, value_of=value_of))
    if node.op == "and":
        return left and bool(evaluate(node=node.right, value_of=value_of))
    return left or bool(evaluate(node=node.right, value_of=value_of))


def evaluate(*, node: Node, value_of: Callable[[str], Any]) -> Any:
    """Evaluate a bound AST against one row (``value_of`` gives typed property values).

    Raises:
        MalformedRequestError: incompatible comparison or bad function arguments.
    """
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Prop):
        return value_of(node.name)
    if isinstance(node, Compare):
        return _compare(node, value_of)
    if isinstance(node, Logical):
        return _logical(node, value_of)
    if isinstance(node, Not):
        return not evaluate(node=node.operand, value_of=value_of)
    return _call(node.name, [evaluate(node=a, value_of=value_of) for a in node.args])


def _row_matcher(node: Node, entity: EntityType) -> Callable[[Row], bool]:
    props = entity.properties

    def matches(row: Row) -> bool:
        return bool(evaluate(node=node, value_of=lambda name: typed(props[name], row.get(name))))

    return matches


def apply_filter(*, rows: list[Row], node: Node | None, entity: EntityType) -> list[Row]:
    """The rows matching a (not yet bound) filter AST.

    Raises:
        MalformedRequestError: unknown property or incompatible comparison.
    """
    if node is None:
        return rows
    matches = _row_matcher(bind(node=node, entity=entity), entity)
    return [row for row in rows if matches(row)]


def _sort_key(prop: Property) -> Callable[[Row], tuple[bool, Any]]:
    def key(row: Row) -> tuple[bool, Any]:
        value = typed(prop, row.get(prop.name))
        return (value is not None, value if value is not None else 0)

    return key


def apply_orderby(
    *, rows: list[Row], orderby: list[tuple[str, bool]], entity: EntityType
) -> list[Row]:
    """Sort by `$orderby` (stable, nulls first), after the key for a deterministic order.

    Raises:
        MalformedRequestError: unknown property.
    """
    ordered = sorted(rows, key=lambda r: tuple(str(r.get(k, "")) for k in entity.keys))
    for name, descending in reversed(orderby):
        if name not in entity.properties:
            raise MalformedRequestError(f"Property {name} not found in type {entity.name}")
        ordered.sort(key=_sort_key(entity.properties[name]), reverse=descending)
    return ordered
