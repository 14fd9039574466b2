"""POST, PUT/PATCH/MERGE, DELETE and function imports on a service."""

from __future__ import annotations

import json
from typing import Any

from isthmus.sandbox_s4.errors import MalformedRequestError, MethodNotAllowedError, ODataError
from isthmus.sandbox_s4.odata import entities as ops
from isthmus.sandbox_s4.odata.edm import EntitySet
from isthmus.sandbox_s4.odata.entities import Context, Row
from isthmus.sandbox_s4.odata.query import parse_options
from isthmus.sandbox_s4.odata.reads import Reader, json_response, resolve
from isthmus.sandbox_s4.odata.resource import ResourcePath
from isthmus.sandbox_s4.odata.serialize import etag
from isthmus.sandbox_s4.odata.wire import (
    ODataRequest,
    ODataResponse,
    RuntimeOptions,
    ServiceBehaviour,
)


class NotImplementedInSandboxError(ODataError):
    """A function import the sandbox does not implement (501)."""

    status = 501
    default_code = "/IWBEP/CM_MGW_RT/016"


class UnsupportedMediaTypeError(ODataError):
    """A request body in a format the sandbox does not read (415)."""

    status = 415
    default_code = "/IWBEP/CM_MGW_RT/013"


def _body(request: ODataRequest) -> dict[str, Any]:
    content_type = request.header("content-type") or "application/json"
    if "xml" in content_type:
        raise UnsupportedMediaTypeError(
            f"Content type {content_type} is not supported by the sandbox; send JSON"
        )
    try:
        payload = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedRequestError(
            "Malformed request body: invalid JSON", code="/IWBEP/CM_MGW_RT/004"
        ) from exc
    if isinstance(payload, dict) and isinstance(payload.get("d"), dict):
        payload = payload["d"]
    if not isinstance(payload, dict):
        raise MalformedRequestError("Request body must be a JSON object")
    return payload


def _literal(text: str) -> str:
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":  # noqa: PLR2004
        return text[1:-1].replace("''", "'")
    return text


class Writer:
    """Answers the modifying requests of one service."""

    def __init__(
        self,
        *,
        ctx: Context,
        request: ODataRequest,
        behaviour: ServiceBehaviour,
        options: RuntimeOptions,
    ) -> None:
        self.ctx = ctx
        self.request = request
        self.behaviour = behaviour
        self.options = options
        ctx.creators = behaviour.creators

    def _emit(self, entity_set: EntitySet, row: Row, operation: str) -> None:
        spec = self.behaviour.events.get(entity_set.name)
        if spec is not None:
            data = {name: row.get(name) for name in spec.data_fields}
            self.ctx.events.emit(
                object_type=spec.object_type, operation=spec.operation or operation, data=data
            )

    def create(self, path: ResourcePath) -> ODataResponse:
        """POST to an entity set or to a to-many navigation of an entity.

        Raises:
            MethodNotAllowedError: the entity set is not creatable.
            MalformedRequestError: bad payload or path.
        """
        last = path.segments[-1]
        if last.key is not None:
            raise MalformedRequestError("POST must address an entity set, not an entity")
        payload = _body(self.request)
        if len(path.segments) == 1:
            entity_set = self.ctx.entity_set(last.name)
            if not entity_set.creatable:
                raise MethodNotAllowedError(f"Entity set {entity_set.name} is not creatable")
            join: dict[str, Any] = {}
        else:
            parent_path = ResourcePath(segments=path.segments[:-1])
            parent_set, parent, _ = resolve(self.ctx, parent_path)
            if parent is None:
                raise MalformedRequestError("POST through a navigation needs a single entity")
            nav = parent_set.entity_type.navigations[last.name]
            entity_set = self.ctx.entity_set(nav.target_set)
            join = {t: parent.get(s) for s, t in nav.join}
        props, navs = ops.split_payload(entity_set, payload)
        props.update(join)
        row = ops.creator_for(self.ctx, entity_set.name)(self.ctx, entity_set, props, navs)
        self._emit(entity_set, row, "Created")
        reader = Reader(ctx=self.ctx, request=self.request, page_size=self.options.page_size)
        headers = {"location": reader.serializer.uri(entity_set, row)}
        tag = etag(entity_set, row)
        if tag:
            headers["etag"] = tag
        options = parse_options(
            params=self.request.params, accept=self.request.header("accept") or ""
        )
        options.expand = [[name] for name in navs]
        return reader.entity_response(201, entity_set, row, options, headers)

    def update(self, path: ResourcePath, *, replace: bool) -> ODataResponse:
        """PUT (replace) or PATCH/MERGE (partial) of one entity.

        Raises:
            MethodNotAllowedError: the entity set is not updatable.
            PreconditionFailedError: If-Match mismatch.
            PreconditionRequiredError: If-Match missing.
        """
        entity_set, row, _ = resolve(self.ctx, path)
        if row is None:
            raise MalformedRequestError("Updates must address a single entity")
        if not entity_set.updatable:
            raise MethodNotAllowedError(f"Entity set {entity_set.name} is not updatable")
        props, navs = ops.split_payload(entity_set, _body(self.request))
        if navs:
            raise MalformedRequestError("Deep update is not supported")
        ops.check_if_match(
            entity_set, row, self.request.header("if-match"), required=self.options.require_if_match
        )
        updated = ops.apply_update(entity_set, row, props, replace=replace)
        ops.touch(entity_set, updated, self.ctx.user)
        ops.save(self.ctx, entity_set, updated)
        hook = self.behaviour.after_update.get(entity_set.name)
        if hook is not None:
            hook(self.ctx, updated)
        self._emit(entity_set, updated, "Changed")
        tag = etag(entity_set, updated)
        return ODataResponse(204, {"etag": tag} if tag else {})

    def delete(self, path: ResourcePath) -> ODataResponse:
        """DELETE one entity and its to-many children.

        Raises:
            MethodNotAllowedError: the entity set is not deletable.
        """
        entity_set, row, _ = resolve(self.ctx, path)
        if row is None:
            raise MalformedRequestError("DELETE must address a single entity")
        if not entity_set.deletable:
            raise MethodNotAllowedError(f"Entity set {entity_set.name} is not deletable")
        ops.check_if_match(
            entity_set, row, self.request.header("if-match"), required=self.options.require_if_match
        )
        guard = self.behaviour.before_delete.get(entity_set.name)
        if guard is not None:
            guard(self.ctx, row)
        self._delete_tree(entity_set, row)
        self._emit(entity_set, row, "Deleted")
        return ODataResponse(204)

    def _delete_tree(self, entity_set: EntitySet, row: Row) -> None:
        for name, nav in entity_set.entity_type.navigations.items():
            if nav.many and nav.join:
                target = self.ctx.entity_set(nav.target_set)
                for child in ops.navigate(self.ctx, entity_set, row, name):
                    self._delete_tree(target, child)
        self.ctx.store.delete(
            service=self.ctx.model.name,
            entity_set=entity_set.name,
            key=ops.key_of(entity_set, row),
        )

    def function(self, path: ResourcePath) -> ODataResponse:
        """Call a function import with its parameters from the query string.

        Raises:
            MethodNotAllowedError: wrong HTTP method for the function.
            NotImplementedInSandboxError: the sandbox does not implement it.
        """
        function = self.ctx.model.functions[path.segments[0].name]
        if self.request.method != function.http_method:
            raise MethodNotAllowedError(
                f"Function import {function.name} requires HTTP method {function.http_method}"
            )
        handler = self.behaviour.functions.get(function.name)
        if handler is None:
            raise NotImplementedInSandboxError(
                f"Function import {function.name} is not implemented in the sandbox"
            )
        params = {
            name: _literal(self.request.params[name])
            for name in function.parameters
            if name in self.request.params
        }
        _, payload = handler(self.ctx, params, self.request.header("if-match"))
        return json_response(200, {"d": payload})
