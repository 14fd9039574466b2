"""Atom/XML payloads (OData V2's default format when a client does not ask for JSON)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from isthmus.sandbox_kit.odata_date import from_ms
from isthmus.sandbox_s4.odata.edm import EntitySet, Property
from isthmus.sandbox_s4.odata.serialize import CollectionPage, Serializer, etag, key_predicate
from isthmus.sandbox_s4.odata.values import typed

ATOM = "http://www.w3.org/2005/Atom"
METADATA = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
DATA = "http://schemas.microsoft.com/ado/2007/08/dataservices"
_NAMESPACES = f'xmlns="{ATOM}" xmlns:m="{METADATA}" xmlns:d="{DATA}"'
_SCHEME = "http://schemas.microsoft.com/ado/2007/08/dataservices/scheme"
_RELATED = "http://schemas.microsoft.com/ado/2007/08/dataservices/related/"

Row = dict[str, Any]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(prop: Property, wire: Any) -> str:
    kind = prop.edm_type
    if kind == "Edm.DateTime":
        return from_ms(typed(prop, wire)).strftime("%Y-%m-%dT%H:%M:%S")
    if kind == "Edm.DateTimeOffset":
        ms = typed(prop, wire)
        return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}0000Z"
    if kind == "Edm.Boolean":
        return "true" if wire else "false"
    return escape(str(wire))


def _property(prop: Property, wire: Any) -> str:
    type_attr = "" if prop.edm_type == "Edm.String" else f' m:type="{prop.edm_type}"'
    if wire is None:
        return f'<d:{prop.name}{type_attr} m:null="true"/>'
    return f"<d:{prop.name}{type_attr}>{_value(prop, wire)}</d:{prop.name}>"


class AtomWriter:
    """Writes entries, feeds and the service document for one service root."""

    def __init__(self, *, serializer: Serializer) -> None:
        self.serializer = serializer
        self.root = serializer.service_root

    def entry(
        self,
        entity_set: EntitySet,
        row: Row,
        *,
        select: list[str],
        expand: list[list[str]],
        top_level: bool = True,
    ) -> str:
        """One `<entry>` (with the XML declaration and namespaces at top level)."""
        entity = entity_set.entity_type
        relative = f"{entity_set.name}{key_predicate(entity_set, row)}"
        wanted = set(select)
        tag = etag(entity_set, row)
        head = f"<entry {_NAMESPACES} xml:base={quoteattr(self.root)}" if top_level else "<entry"
        head += f" m:etag={quoteattr(tag)}>" if tag else ">"
        links = "".join(
            self._link(
                entity_set, row, relative, name, [p[1:] for p in expand if p and p[0] == name]
            )
            for name in entity.navigations
            if not wanted or name in wanted or any(p and p[0] == name for p in expand)
        )
        props = "".join(
            _property(prop, row.get(name))
            for name, prop in entity.properties.items()
            if not wanted or name in wanted
        )
        body = (
            f"{head}<id>{escape(self.root + relative)}</id>"
            f'<title type="text">{escape(relative)}</title><updated>{_now()}</updated>'
            f'<category term="{self.serializer.model.type_name(entity_set)}" scheme="{_SCHEME}"/>'
            f'<link href={quoteattr(relative)} rel="edit" title="{entity.name}"/>{links}'
            f'<content type="application/xml"><m:properties>{props}</m:properties></content>'
            "</entry>"
        )
        return _declared(body) if top_level else body

    def _link(
        self, entity_set: EntitySet, row: Row, relative: str, name: str, nested: list[list[str]]
    ) -> str:
        nav = entity_set.entity_type.navigations[name]
        kind = "feed" if nav.many else "entry"
        head = (
            f'<link href={quoteattr(f"{relative}/{name}")} rel="{_RELATED}{name}" '
            f'type="application/atom+xml;type={kind}" title="{name}"'
        )
        if not nested:
            return head + "/>"
        target = self.serializer.model.entity_sets[nav.target_set]
        rows = self.serializer.read_navigation(entity_set, row, name)
        deeper = [p for p in nested if p]
        entries = "".join(
            self.entry(target, r, select=[], expand=deeper, top_level=False) for r in rows
        )
        feed = f'<feed><title type="text">{name}</title>{entries}</feed>'
        inline = feed if nav.many else entries
        return f"{head}><m:inline>{inline}</m:inline></link>"

    def feed(self, page: CollectionPage) -> str:
        """A `<feed>` with `m:count` and a `next` link when paging."""
        entity_set, count, next_url = page.entity_set, page.count, page.next_url
        entries = "".join(
            self.entry(entity_set, r, select=page.select, expand=page.expand, top_level=False)
            for r in page.rows
        )
        count_xml = f"<m:count>{count}</m:count>" if count is not None else ""
        next_xml = f'<link href={quoteattr(next_url)} rel="next"/>' if next_url else ""
        body = (
            f"<feed {_NAMESPACES} xml:base={quoteattr(self.root)}>"
            f"<id>{escape(self.root + entity_set.name)}</id>"
            f'<title type="text">{entity_set.name}</title><updated>{_now()}</updated>'
            f'<author><name/></author><link href="{entity_set.name}" rel="self" '
            f'title="{entity_set.name}"/>{count_xml}{entries}{next_xml}</feed>'
        )
        return _declared(body)

    def service_document(self) -> str:
        """The AtomPub service document of the service root."""
        collections = "".join(
            f'<app:collection href="{name}"><atom:title type="text">{name}</atom:title>'
            "</app:collection>"
            for name in self.serializer.model.entity_sets
        )
        return _declared(
            f'<app:service xmlns:app="http://www.w3.org/2007/app" xmlns:atom="{ATOM}" '
            f"xml:base={quoteattr(self.root)}><app:workspace>"
            f'<atom:title type="text">Data</atom:title>{collections}</app:workspace></app:service>'
        )


def _declared(body: str) -> str:
    return f'<?xml version="1.0" encoding="utf-8"?>{body}'
