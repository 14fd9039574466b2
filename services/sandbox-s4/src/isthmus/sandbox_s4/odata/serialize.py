"""Verbose OData V2 JSON: `d`, `results`, `__metadata`, `__deferred`, key predicates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from isthmus.sandbox_kit.odata_date import from_ms
from isthmus.sandbox_s4.odata.edm import EntitySet, Property, ServiceModel
from isthmus.sandbox_s4.odata.values import etag_of, typed

Row = dict[str, Any]
# Reads the rows a navigation property leads to: (entity set, row, navigation name) -> rows.
NavReader = Callable[[EntitySet, Row, str], list[Row]]


def key_literal(prop: Property, value: Any) -> str:
    """A key value as it appears in a resource path."""
    kind = prop.edm_type
    if kind == "Edm.String":
        return "'" + quote(str(value).replace("'", "''"), safe="") + "'"
    if kind == "Edm.Guid":
        return f"guid'{value}'"
    if kind in {"Edm.DateTime", "Edm.DateTimeOffset"}:
        stamp = from_ms(typed(prop, value) or 0).strftime("%Y-%m-%dT%H%%3A%M%%3A%S")
        return f"datetime'{stamp}'" if kind == "Edm.DateTime" else f"datetimeoffset'{stamp}Z'"
    return str(value)


def key_predicate(entity_set: EntitySet, row: Row) -> str:
    """`('4711')` for one key, `(SalesOrder='4711',SalesOrderItem='10')` for composite keys."""
    entity = entity_set.entity_type
    props = entity.properties
    if len(entity.keys) == 1:
        name = entity.keys[0]
        return f"({key_literal(props[name], row.get(name))})"
    parts = ",".join(f"{k}={key_literal(props[k], row.get(k))}" for k in entity.keys)
    return f"({parts})"


def etag(entity_set: EntitySet, row: Row) -> str | None:
    """The entity's ETag, when its type declares a concurrency property."""
    prop = entity_set.entity_type.etag_property
    return None if prop is None else etag_of(prop, row.get(prop.name))


@dataclass(frozen=True)
class CollectionPage:
    """One page of a collection read and how to render it."""

    entity_set: EntitySet
    rows: list[Row]
    select: list[str]
    expand: list[list[str]]
    count: int | None
    next_url: str | None


@dataclass(frozen=True)
class Serializer:
    """Turns stored rows into verbose JSON for one service and base URL."""

    model: ServiceModel
    service_root: str
    read_navigation: NavReader

    def uri(self, entity_set: EntitySet, row: Row) -> str:
        """The canonical URI of an entity."""
        return f"{self.service_root}{entity_set.name}{key_predicate(entity_set, row)}"

    def entity(
        self,
        entity_set: EntitySet,
        row: Row,
        *,
        select: list[str] | None = None,
        expand: list[list[str]] | None = None,
    ) -> dict[str, Any]:
        """One entity with `__metadata`, its (selected) properties and navigation links."""
        uri = self.uri(entity_set, row)
        meta: dict[str, Any] = {"id": uri, "uri": uri, "type": self.model.type_name(entity_set)}
        tag = etag(entity_set, row)
        if tag is not None:
            meta["etag"] = tag
        body: dict[str, Any] = {"__metadata": meta}
        entity = entity_set.entity_type
        wanted = set(select or [])
        expand = expand or []
        for name in entity.properties:
            if not wanted or name in wanted or "*" in wanted:
                body[name] = row.get(name)
        for name in entity.navigations:
            nested = [path[1:] for path in expand if path and path[0] == name]
            if nested:
                body[name] = self._expanded(entity_set, row, name, nested)
            elif not wanted or name in wanted or "*" in wanted:
                body[name] = {"__deferred": {"uri": f"{uri}/{name}"}}
        return body

    def _expanded(self, entity_set: EntitySet, row: Row, name: str, nested: list[list[str]]) -> Any:
        nav = entity_set.entity_type.navigations[name]
        target = self.model.entity_sets[nav.target_set]
        rows = self.read_navigation(entity_set, row, name)
        deeper = [path for path in nested if path]
        items = [self.entity(target, r, expand=deeper) for r in rows]
        if nav.many:
            return {"results": items}
        return items[0] if items else None

    def collection(self, page: CollectionPage) -> dict[str, Any]:
        """A collection body: `{"d": {"results": [...], "__count": "n", "__next": url}}`."""
        payload: dict[str, Any] = {}
        if page.count is not None:
            payload["__count"] = str(page.count)
        payload["results"] = [
            self.entity(page.entity_set, r, select=page.select, expand=page.expand)
            for r in page.rows
        ]
        if page.next_url is not None:
            payload["__next"] = page.next_url
        return {"d": payload}
