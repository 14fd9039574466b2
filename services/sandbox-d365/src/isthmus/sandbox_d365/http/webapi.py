"""The Web API dispatcher: one request (or ``$batch`` part) in, one response out."""

from __future__ import annotations

from collections.abc import Callable

from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.business.rows import etag_of
from isthmus.sandbox_d365.errors import DataverseError, NotFoundError, QueryError
from isthmus.sandbox_d365.odata.listing import Listing
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse
from isthmus.sandbox_d365.odata.metadata import metadata_document
from isthmus.sandbox_d365.odata.query import Query, parse_query
from isthmus.sandbox_d365.odata.refs import KeyRef, parse_key, split_path
from isthmus.sandbox_d365.odata.schema import Catalogue, Table
from isthmus.sandbox_d365.odata.serialize import Annotations, Serializer

Action = Callable[[ApiRequest], ApiResponse]


class WebApi:
    """Routes a request to collection, entity, property, navigation or action handlers."""

    def __init__(self, *, records: Records, catalogue: Catalogue) -> None:
        self.records = records
        self.catalogue = catalogue
        self.actions: dict[tuple[str, str], Action] = {}

    def handle(self, request: ApiRequest) -> ApiResponse:
        """Answer one request; every Dataverse error becomes its JSON error response."""
        try:
            return self._route(request)
        except DataverseError as error:
            return ApiResponse.of_error(error)

    def serializer(self, request: ApiRequest) -> Serializer:
        """A serializer honouring the request's annotation preference."""
        annotations = Annotations(request.prefer().get("odata.include-annotations"))
        return Serializer(
            catalogue=self.catalogue,
            store=self.records.store,
            base=request.base,
            annotations=annotations,
        )

    def _route(self, request: ApiRequest) -> ApiResponse:
        path = split_path(request.path)
        action = self.actions.get((request.method, path.entity_set.removesuffix("()")))
        if action is not None and not path.key:
            return action(request)
        if path.entity_set == "" and request.method == "GET":
            return self._service_document(request)
        if path.entity_set == "$metadata" and request.method == "GET":
            document = metadata_document(self.catalogue).encode()
            return ApiResponse(
                200, {"OData-Version": "4.0", "Content-Type": "application/xml"}, document
            )
        table = self.catalogue.by_set.get(path.entity_set)
        if table is None:
            raise NotFoundError(
                f"Resource not found for the segment '{path.entity_set}'.", code="0x80060888"
            )
        query = parse_query({k: v for k, v in request.query.items() if k.startswith("$")})
        if path.key is None:
            return self._collection(request, table, query, path.rest)
        key = parse_key(path.key, table)
        if path.rest:
            return self._nested(request, table, key, query, path.rest)
        return self._entity(request, table, key, query)

    def _service_document(self, request: ApiRequest) -> ApiResponse:
        sets = [{"name": s, "kind": "EntitySet", "url": s} for s in self.catalogue.by_set]
        return ApiResponse.of_json(
            200, {"@odata.context": f"{request.base}/$metadata", "value": sets}
        )

    def _collection(
        self, request: ApiRequest, table: Table, query: Query, rest: tuple[str, ...]
    ) -> ApiResponse:
        if rest == ("$count",) and request.method == "GET":
            count = len(self.records.store.all(table.logical))
            return ApiResponse(
                200, {"OData-Version": "4.0", "Content-Type": "text/plain"}, str(count).encode()
            )
        if rest:
            raise QueryError(f"Resource not found for the segment '{rest[0]}'.")
        if request.method == "GET":
            return Listing(
                serializer=self.serializer(request), request=request, table=table
            ).respond(query)
        if request.method == "POST":
            row = self.records.create(table, request.json(), user_id=request.user_id)
            return self._written(request, table, row, query, created=True)
        raise DataverseError(
            status=405,
            code="0x80060888",
            message=f"The HTTP method '{request.method}' is not allowed for an entity set.",
        )

    def _entity(self, request: ApiRequest, table: Table, key: KeyRef, query: Query) -> ApiResponse:
        method = request.method
        if method == "GET":
            return self._retrieve(request, table, key, query)
        if method == "PATCH":
            row, created = self.records.upsert(
                table,
                key,
                request.json(),
                user_id=request.user_id,
                if_match=request.header("if-match"),
                if_none_match=request.header("if-none-match"),
            )
            return self._written(request, table, row, query, created=created, key=key)
        if method == "DELETE":
            self.records.delete(
                table, key, user_id=request.user_id, if_match=request.header("if-match")
            )
            return ApiResponse.empty(204)
        raise DataverseError(
            status=405, code="0x80060888", message=f"The HTTP method '{method}' is not allowed."
        )

    def _retrieve(
        self, request: ApiRequest, table: Table, key: KeyRef, query: Query
    ) -> ApiResponse:
        row = self.records.require(table, key)
        annotations = request.prefer().get("odata.include-annotations")
        if request.header("if-none-match") == etag_of(row) and not query.expand and not annotations:
            return ApiResponse.empty(304, {"ETag": etag_of(row)})
        ser = self.serializer(request)
        body = {
            "@odata.context": ser.context(table, query, entity=True),
            **ser.entity(table, row, query),
        }
        headers = {"ETag": etag_of(row)}
        if annotations:
            headers["Preference-Applied"] = f"odata.include-annotations={annotations}"
        return ApiResponse.of_json(200, body, headers)

    def _written(
        self,
        request: ApiRequest,
        table: Table,
        row: dict[str, object],
        query: Query,
        *,
        created: bool,
        key: KeyRef | None = None,
    ) -> ApiResponse:
        entity_url = f"{request.base}/{table.entity_set}({row[table.key]})"
        if request.prefer().get("return") == "representation":
            ser = self.serializer(request)
            # $expand applies to the representation of a POST; PATCH ignores it.
            expand = query.expand if request.method == "POST" else {}
            body = {
                "@odata.context": ser.context(table, query, entity=True),
                **ser.entity(table, row, Query(select=query.select, expand=expand)),
            }
            headers = {"ETag": etag_of(row), "Preference-Applied": "return=representation"}
            return ApiResponse.of_json(201 if created else 200, body, headers)
        if key is not None and key.row_id is None:
            entity_url = f"{request.base}/{table.entity_set}({key.text()})"
        return ApiResponse.empty(204, {"OData-EntityId": entity_url, "Location": entity_url})

    def _nested(
        self, request: ApiRequest, table: Table, key: KeyRef, query: Query, rest: tuple[str, ...]
    ) -> ApiResponse:
        name = rest[0]
        row = self.records.require(table, key)
        if name in table.collections or table.nav_target(name) is not None:
            if rest[1:] == ("$ref",) and request.method == "DELETE":
                target = table.nav_target(name)
                if target is None:
                    raise QueryError(f"'{name}' is not a single-valued navigation property.")
                self.records.update(
                    table,
                    KeyRef(row_id=row[table.key]),
                    {f"{name}@odata.bind": None},
                    user_id=request.user_id,
                )
                return ApiResponse.empty(204)
            return self._navigation(request, table, row, name, query)
        if not table.is_readable(name):
            raise QueryError(
                f"Could not find a property named '{name}' on type "
                f"'Microsoft.Dynamics.CRM.{table.logical}'."
            )
        if request.method == "GET":
            ser = self.serializer(request)
            context = f"{request.base}/$metadata#{table.entity_set}({row[table.key]})/{name}"
            return ApiResponse.of_json(
                200, {"@odata.context": context, "value": ser._value(table, row, name)}
            )
        if request.method in ("PUT", "DELETE"):
            value = None if request.method == "DELETE" else (request.json() or {}).get("value")
            self.records.update(
                table, KeyRef(row_id=row[table.key]), {name: value}, user_id=request.user_id
            )
            return ApiResponse.empty(204)
        raise DataverseError(
            status=405,
            code="0x80060888",
            message=f"The HTTP method '{request.method}' is not allowed.",
        )

    def _navigation(
        self, request: ApiRequest, table: Table, row: dict[str, object], name: str, query: Query
    ) -> ApiResponse:
        ser = self.serializer(request)
        value = ser._expand(table, row, name, query)
        if isinstance(value, list):
            collection = table.collections[name]
            child = self.catalogue.table(collection.table)
            return ApiResponse.of_json(
                200, {"@odata.context": ser.context(child, query, entity=False), "value": value}
            )
        if value is None:
            raise NotFoundError("No content for the navigation property.", code="")
        return ApiResponse.of_json(200, value)
