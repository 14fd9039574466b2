"""GET on a service: service document, `$metadata`, entities, collections, `$count`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from isthmus.sandbox_s4.errors import MalformedRequestError, ResourceNotFoundError
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.atom import AtomWriter
from isthmus.sandbox_s4.odata.edm import EntitySet
from isthmus.sandbox_s4.odata.entities import Context, Row
from isthmus.sandbox_s4.odata.query import QueryOptions, apply_filter, apply_orderby
from isthmus.sandbox_s4.odata.resource import ResourcePath
from isthmus.sandbox_s4.odata.serialize import CollectionPage, Serializer, etag
from isthmus.sandbox_s4.odata.wire import ODataRequest, ODataResponse

JSON = "application/json;charset=utf-8"
ATOM_ENTRY = "application/atom+xml;type=entry;charset=utf-8"
ATOM_FEED = "application/atom+xml;type=feed;charset=utf-8"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> ODataResponse:
    """A JSON response with SAP's content type."""
    return ODataResponse(
        status,
        {"content-type": JSON, **(headers or {})},
        json.dumps(body, separators=(",", ":")).encode(),
    )


def xml_response(
    status: int, body: str, content_type: str, headers: dict[str, str] | None = None
) -> ODataResponse:
    """An XML (Atom) response."""
    return ODataResponse(status, {"content-type": content_type, **(headers or {})}, body.encode())


def resolve(ctx: Context, path: ResourcePath) -> tuple[EntitySet, Row | None, list[Row]]:
    """Walk the path: (entity set of the last segment, single row or None, collection rows).

    Raises:
        ResourceNotFoundError: a key or a to-one navigation leads nowhere.
        MalformedRequestError: navigation from a collection.
    """
    first = path.segments[0]
    entity_set = ctx.entity_set(first.name)
    single: Row | None = None
    rows: list[Row] = []
    if first.key is not None:
        single = ops.read(ctx, entity_set, first.key)
    else:
        rows = ctx.store.rows(service=ctx.model.name, entity_set=entity_set.name)
    for segment in path.segments[1:]:
        if single is None:
            raise MalformedRequestError("Navigation is only possible from a single entity")
        nav = entity_set.entity_type.navigations[segment.name]
        rows = ops.navigate(ctx, entity_set, single, segment.name)
        entity_set = ctx.entity_set(nav.target_set)
        single = None
        if segment.key is not None or not nav.many:
            single = _pick(entity_set, rows, segment.key)
    return entity_set, single, rows


def _pick(entity_set: EntitySet, rows: list[Row], key: dict[str, Any] | None) -> Row:
    for row in rows:
        if key is None or all(row.get(k) == v for k, v in key.items()):
            return row
    raise ResourceNotFoundError(f"Resource not found for segment '{entity_set.entity_type.name}'")


def check_projection(ctx: Context, entity_set: EntitySet, options: QueryOptions) -> None:
    """Reject `$select`/`$expand` names the entity type does not have.

    Raises:
        MalformedRequestError: unknown property or navigation property.
    """
    entity = entity_set.entity_type
    for name in options.select:
        if name != "*" and name not in entity.properties and name not in entity.navigations:
            raise MalformedRequestError(
                f"Property {name} not found in type {entity.name}", code="/IWBEP/CM_MGW_RT/022"
            )
    for path in options.expand:
        current = entity_set
        for name in path:
            nav = current.entity_type.navigations.get(name)
            if nav is None:
                raise MalformedRequestError(
                    f"Navigation property {name} not found in type {current.entity_type.name}",
                    code="/IWBEP/CM_MGW_RT/022",
                )
            current = ctx.entity_set(nav.target_set)


class Reader:
    """Answers the GET requests of one service."""

    def __init__(self, *, ctx: Context, request: ODataRequest, page_size: int) -> None:
        self.ctx = ctx
        self.request = request
        self.page_size = page_size
        self.serializer = Serializer(
            model=ctx.model,
            service_root=request.service_root,
            read_navigation=lambda es, row, name: ops.navigate(ctx, es, row, name),
        )
        self.atom = AtomWriter(serializer=self.serializer)

    def read(self, path: ResourcePath, options: QueryOptions) -> ODataResponse:
        """Dispatch one GET.

        Raises:
            ResourceNotFoundError: unknown key or navigation target.
        """
        if path.kind == "metadata":
            return ODataResponse(
                200, {"content-type": "application/xml"}, self.ctx.model.metadata_xml
            )
        if path.kind == "root":
            if not options.json:
                return xml_response(200, self.atom.service_document(), "application/xml")
            names = list(self.ctx.model.entity_sets)
            return json_response(200, {"d": {"EntitySets": names}})
        entity_set, single, rows = resolve(self.ctx, path)
        if path.trailer == "$count":
            count = len(apply_filter(rows=rows, node=options.filter, entity=entity_set.entity_type))
            return ODataResponse(200, {"content-type": "text/plain"}, str(count).encode())
        check_projection(self.ctx, entity_set, options)
        if single is not None:
            return self._entity(entity_set, single, options)
        return self._collection(entity_set, rows, options)

    def _entity(self, entity_set: EntitySet, row: Row, options: QueryOptions) -> ODataResponse:
        tag = etag(entity_set, row)
        headers = {"etag": tag} if tag else None
        return self.entity_response(200, entity_set, row, options, headers)

    def entity_response(
        self,
        status: int,
        entity_set: EntitySet,
        row: Row,
        options: QueryOptions,
        headers: dict[str, str] | None = None,
    ) -> ODataResponse:
        """One entity as verbose JSON or as an Atom entry, as the client asked."""
        select, expand = options.select, options.expand
        if not options.json:
            entry = self.atom.entry(entity_set, row, select=select, expand=expand)
            return xml_response(status, entry, ATOM_ENTRY, headers)
        body = self.serializer.entity(entity_set, row, select=select, expand=expand)
        return json_response(status, {"d": body}, headers)

    def _collection(
        self, entity_set: EntitySet, rows: list[Row], options: QueryOptions
    ) -> ODataResponse:
        entity = entity_set.entity_type
        rows = apply_filter(rows=rows, node=options.filter, entity=entity)
        rows = apply_orderby(rows=rows, orderby=options.orderby, entity=entity)
        count = len(rows) if options.inlinecount else None
        start = options.skiptoken if options.skiptoken is not None else options.skip
        wanted = options.top if options.top is not None else len(rows)
        size = min(wanted, self.page_size)
        next_url = None
        if size < wanted and start + size < len(rows):
            next_url = self._next_url(start + size, wanted - size)
        page = CollectionPage(
            entity_set=entity_set,
            rows=rows[start : start + size],
            select=options.select,
            expand=options.expand,
            count=count,
            next_url=next_url,
        )
        if not options.json:
            return xml_response(200, self.atom.feed(page), ATOM_FEED)
        return json_response(200, self.serializer.collection(page))

    def _next_url(self, token: int, remaining: int) -> str:
        params = {
            k: v for k, v in self.request.params.items() if k not in {"$skip", "$top", "$skiptoken"}
        }
        if self.request.params.get("$top") is not None:
            params["$top"] = str(remaining)
        params["$skiptoken"] = str(token)
        path = "/".join(self.request.segments)  # still percent-encoded as received
        return f"{self.request.service_root}{path}?{urlencode(params, safe='$(),/')}"
