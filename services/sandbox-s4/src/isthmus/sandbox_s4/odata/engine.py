"""The OData V2 request dispatcher: one request in, one response out, inside one transaction."""

from __future__ import annotations

import json
import logging
from typing import Any

from isthmus.sandbox_s4.errors import (
    ForbiddenError,
    InternalError,
    MalformedRequestError,
    ODataError,
)
from isthmus.sandbox_s4.eventmesh.events import EventBus, PendingEvents
from isthmus.sandbox_s4.odata.edm import ServiceModel
from isthmus.sandbox_s4.odata.entities import Context
from isthmus.sandbox_s4.odata.messages import error_body, error_xml, sap_message_header
from isthmus.sandbox_s4.odata.query import parse_options
from isthmus.sandbox_s4.odata.reads import Reader
from isthmus.sandbox_s4.odata.resource import parse_path
from isthmus.sandbox_s4.odata.wire import (
    ODataRequest,
    ODataResponse,
    RuntimeOptions,
    ServiceBehaviour,
)
from isthmus.sandbox_s4.odata.writes import Writer
from isthmus.sandbox_s4.store import Store

_log = logging.getLogger(__name__)


class ODataEngine:
    """Dispatches OData requests for every loaded service."""

    def __init__(
        self,
        *,
        models: dict[str, ServiceModel],
        behaviours: dict[str, ServiceBehaviour],
        store: Store,
        bus: EventBus,
        options: RuntimeOptions,
    ) -> None:
        self.models = models
        self.behaviours = behaviours
        self.store = store
        self.bus = bus
        self.options = options

    def handle(
        self,
        request: ODataRequest,
        *,
        deferred: list[tuple[str, str, dict[str, Any]]] | None = None,
    ) -> ODataResponse:
        """Answer one request; errors become SAP-shaped error responses.

        Events go to the bus after the commit, or into ``deferred`` when the caller owns the
        transaction (a `$batch` change set publishes only after the whole set commits).
        """
        wants_json = (
            "json" in (request.header("accept") or "") or request.params.get("$format") == "json"
        )
        try:
            model = self._model(request.service)
            pending = PendingEvents()
            ctx = Context(
                store=self.store,
                model=model,
                events=pending,
                user=request.user,
                models=self.models,
                require_if_match=self.options.require_if_match,
            )
            with self.store.transaction():
                response = self._dispatch(ctx, request)
            if deferred is None:
                self.bus.publish(events=pending.events)
            else:
                deferred.extend(pending.events)
            header = sap_message_header(messages=ctx.messages)
            if header:
                response.headers["sap-message"] = header
        except ODataError as error:
            return self.error_response(error, request=request, wants_json=wants_json)
        except Exception:  # a sandbox bug must still answer like Gateway, never with a traceback
            _log.exception("internal error on %s %s", request.method, request.segments)
            return self.error_response(InternalError(), request=request, wants_json=wants_json)
        response.headers.setdefault("dataserviceversion", "2.0")
        return response

    def error_response(
        self, error: ODataError, *, request: ODataRequest, wants_json: bool
    ) -> ODataResponse:
        """The SAP error body (JSON when asked for JSON, XML otherwise)."""
        behaviour = self.behaviours.get(request.service)
        component = behaviour.component_id if behaviour else ""
        if wants_json or request.in_batch:
            body = error_body(
                error, service=request.service, component=component, in_batch=request.in_batch
            )
            payload = json.dumps(body).encode()
            content_type = "application/json;charset=utf-8"
        else:
            payload, content_type = error_xml(error), "application/xml;charset=utf-8"
        return ODataResponse(
            error.status,
            {"content-type": content_type, "dataserviceversion": "1.0"},
            payload,
        )

    def _model(self, service: str) -> ServiceModel:
        model = self.models.get(service)
        if model is None:
            raise ForbiddenError(
                f"No service found for namespace /SAP/, name {service}, version 0001",
                code="/IWBEP/CM_MGW_RT/026",
            )
        return model

    def _dispatch(self, ctx: Context, request: ODataRequest) -> ODataResponse:
        path = parse_path(model=ctx.model, raw_segments=request.segments)
        behaviour = self.behaviours[request.service]
        method = request.method
        if method == "POST" and (request.header("x-http-method") or "").upper() in {
            "MERGE",
            "PATCH",
        }:
            method = "MERGE"
        if path.kind == "function":
            writer = Writer(ctx=ctx, request=request, behaviour=behaviour, options=self.options)
            return writer.function(path)
        if method in {"GET", "HEAD"}:
            options = parse_options(params=request.params, accept=request.header("accept") or "")
            reader = Reader(ctx=ctx, request=request, page_size=self.options.page_size)
            return reader.read(path, options)
        writer = Writer(ctx=ctx, request=request, behaviour=behaviour, options=self.options)
        if method == "POST":
            return writer.create(path)
        if method in {"PUT", "PATCH", "MERGE"}:
            return writer.update(path, replace=method == "PUT")
        if method == "DELETE":
            return writer.delete(path)
        raise MalformedRequestError(f"Method {method} is not supported")
