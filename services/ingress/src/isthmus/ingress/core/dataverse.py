"""Dataverse RemoteExecutionContext (webhook body) to pending source events.

The SDK serialisation is turned into the Web API shape the Avro records use: lookups become
``_<name>_value`` GUIDs, Money and OptionSetValue their ``Value``, ``/Date(ms)/`` an RFC 3339
time. Target attributes win over post-image ones (the change itself); a Delete reads the
pre-image. A salesorder reaching statecode 3 (Fulfilled), or a ``FulfillSalesOrder`` message,
is also a shipment confirmation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.ingress.core.events import Hydration, PendingEvent, envelope, iso_millis
from isthmus.ingress.errors import MalformedError
from isthmus.ingress.settings import DataverseRoute, DataverseWebhookSettings
from isthmus.schemas import odata_date

FULFILLED = 3
STATUS_MESSAGES = frozenset({"SetState", "SetStateDynamicEntity", "FulfillSalesOrder", "Win"})
_STATE_MESSAGES = frozenset({"SetState", "SetStateDynamicEntity"})
_OPERATIONS = {"Create": "CREATED", "Update": "UPDATED", "Delete": "DELETED"}
_STATUS_FIELDS = {"statecode", "statuscode"}


@dataclass(frozen=True)
class ExecutionContext:
    """The parts of a RemoteExecutionContext the ingress reads."""

    message: str
    table: str
    row_id: str
    operation_id: str
    correlation_id: str | None
    origin_user: str | None
    occurred_at: str
    target: dict[str, Any]
    images: dict[str, Any]
    inputs: dict[str, Any]
    organization: str


def parse_context(body: Any, *, organization: str | None) -> ExecutionContext:
    """Read a webhook body.

    Raises:
        MalformedError: the body is not a RemoteExecutionContext; every problem is listed.
    """
    if not isinstance(body, Mapping):
        raise MalformedError("body is not a RemoteExecutionContext object")
    missing = [
        n for n in ("MessageName", "PrimaryEntityName", "PrimaryEntityId") if not body.get(n)
    ]
    problems = [f"$.{name}: required field is missing" for name in missing]
    problems += _shape_problems(body)
    if problems:
        raise MalformedError("not a RemoteExecutionContext", violations=tuple(problems))
    inputs = _pairs(body.get("InputParameters"))
    target_value = inputs.get("Target")
    target = _attributes(target_value) if isinstance(target_value, Mapping) else {}
    images: dict[str, Any] = {}
    if body["MessageName"] == "Delete":
        for image in _pairs(body.get("PreEntityImages")).values():
            images.update(_attributes(image))
    for image in _pairs(body.get("PostEntityImages")).values():
        images.update(_attributes(image))
    return ExecutionContext(
        message=str(body["MessageName"]),
        table=str(body["PrimaryEntityName"]),
        row_id=str(body["PrimaryEntityId"]).lower(),
        operation_id=str(body.get("OperationId") or body.get("CorrelationId") or uuid.uuid4()),
        correlation_id=_text(body.get("CorrelationId")),
        origin_user=_text(body.get("InitiatingUserId") or body.get("UserId")),
        occurred_at=_when(body.get("OperationCreatedOn")),
        target=target,
        images=images,
        inputs=inputs,
        organization=organization or str(body.get("OrganizationName") or "dataverse"),
    )


def events_for(
    context: ExecutionContext, *, settings: DataverseWebhookSettings, correlation_id: str | None
) -> list[PendingEvent]:
    """The events one webhook call produces (empty: no flow uses this table/message)."""
    route = settings.routes.get(context.table)
    found: list[PendingEvent] = []
    if route is not None and _accepts(route, context.message):
        found.append(_record_event(context, route, correlation_id))
    if context.table == "salesorder" and _is_fulfilment(context):
        found.append(_shipment_event(context, settings, correlation_id))
    return found


def _accepts(route: DataverseRoute, message: str) -> bool:
    return message in route.messages or message in _STATE_MESSAGES


def _is_fulfilment(context: ExecutionContext) -> bool:
    if context.message == "FulfillSalesOrder":
        return True
    return context.message == "Update" and context.target.get("statecode") == FULFILLED


def _operation(context: ExecutionContext) -> str:
    if context.message in STATUS_MESSAGES:
        return "STATUS_CHANGED"
    if context.message == "Update" and _STATUS_FIELDS & set(context.target):
        return "STATUS_CHANGED"
    return _OPERATIONS.get(context.message, "UPDATED")


def _record_event(
    context: ExecutionContext, route: DataverseRoute, correlation_id: str | None
) -> PendingEvent:
    data = {**context.images, **context.target, route.key: context.row_id}
    version = data.get("versionnumber")
    changed = sorted(context.target) if context.message == "Update" else []
    hydrate = None
    if context.message != "Delete":
        expand = (route.expand,) if route.expand else ()
        hydrate = Hydration("d365", route.entity_set, context.row_id, expand)
    return PendingEvent(
        topic=route.topic,
        schema_name=route.schema_name,
        key=context.row_id,
        envelope=envelope(
            event_id=context.operation_id,
            occurred_at=context.occurred_at,
            system="D365",
            operation=_operation(context),
            message=context.message,
            origin_user=context.origin_user,
            correlation_id=correlation_id or context.correlation_id,
            changed_fields=[name for name in changed if name != route.key],
            source_version=None if version is None else str(version),
        ),
        data=data,
        ce_source=f"/dataverse/{context.organization}/{context.table}",
        ce_type=f"com.microsoft.dataverse.{context.table}.{context.message}",
        hydration=hydrate,
    )


def _shipment_event(
    context: ExecutionContext, settings: DataverseWebhookSettings, correlation_id: str | None
) -> PendingEvent:
    close = context.inputs.get("OrderClose")
    close_attributes = _attributes(close) if isinstance(close, Mapping) else {}
    status = context.inputs.get("Status")
    status_value = _sdk_value(status) if status is not None else context.target.get("statuscode")
    data = {
        "salesorderid": context.row_id,
        "status": status_value,
        "subject": close_attributes.get("subject"),
        "description": close_attributes.get("description"),
        "datefulfilled": context.target.get("datefulfilled"),
    }
    return PendingEvent(
        topic=settings.shipment_topic,
        schema_name=settings.shipment_schema,
        key=context.row_id,
        envelope=envelope(
            event_id=context.operation_id,
            occurred_at=context.occurred_at,
            system="D365",
            operation="STATUS_CHANGED",
            message="FulfillSalesOrder",
            origin_user=context.origin_user,
            correlation_id=correlation_id or context.correlation_id,
            changed_fields=sorted(context.target),
        ),
        data={k: v for k, v in data.items() if v is not None},
        ce_source=f"/dataverse/{context.organization}/salesorder",
        ce_type="com.microsoft.dataverse.salesorder.FulfillSalesOrder",
        hydration=Hydration("d365", "salesorders", context.row_id, ("order_details",)),
    )


def _shape_problems(body: Mapping[str, Any]) -> list[str]:
    """What a RemoteExecutionContext cannot be: each problem as ``$.path: reason``."""
    problems = [
        f"$.{name}: expected a string"
        for name in ("MessageName", "PrimaryEntityName")
        if body.get(name) and not isinstance(body[name], str)
    ]
    problems += [
        f"$.{name}: expected a GUID"
        for name in ("PrimaryEntityId", "UserId", "InitiatingUserId")
        if body.get(name) is not None and not _is_guid(body[name])
    ]
    for name in ("InputParameters", "PreEntityImages", "PostEntityImages"):
        problems += _pair_problems(body.get(name), f"$.{name}")
    for item in body.get("InputParameters") or []:
        if isinstance(item, Mapping) and item.get("key") == "Target":
            problems += _target_problems(item.get("value"))
    return problems


def _pair_problems(raw: Any, path: str) -> list[str]:
    """A ``[{key, value}, ...]`` collection (absent or null is allowed)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return [f"{path}: expected a list of key/value pairs"]
    return [
        f"{path}[{index}]: expected an object with a string key"
        for index, item in enumerate(raw)
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str)
    ]


def _target_problems(target: Any) -> list[str]:
    """The Target input: an Entity (with attribute pairs) or an EntityReference."""
    path = "$.InputParameters[Target].value"
    if not isinstance(target, Mapping):
        return [f"{path}: expected an Entity or EntityReference object"]
    return _pair_problems(target.get("Attributes"), f"{path}.Attributes")


def _is_guid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _pairs(raw: Any) -> dict[str, Any]:
    """``[{key, value}, ...]`` as a dict (anything else: empty)."""
    if not isinstance(raw, list):
        return {}
    return {
        str(item["key"]): item.get("value")
        for item in raw
        if isinstance(item, Mapping) and "key" in item
    }


def _attributes(entity: Any) -> dict[str, Any]:
    """The attributes of an SDK ``Entity`` in Web API shape."""
    if not isinstance(entity, Mapping):
        return {}
    out: dict[str, Any] = {}
    for name, value in _pairs(entity.get("Attributes")).items():
        kind = _type_of(value)
        if kind == "EntityReference":
            out[f"_{name}_value"] = str(value.get("Id")).lower() if value.get("Id") else None
            if name == "customerid":
                out["customeridtype"] = value.get("LogicalName")
        elif kind != "EntityCollection":
            out[name] = _sdk_value(value)
    return out


def _type_of(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("__type", "")).split(":", 1)[0]
    return ""


def _sdk_value(value: Any) -> Any:
    """One SDK value as the Web API writes it."""
    if isinstance(value, Mapping):
        return _wrapped(value)
    if isinstance(value, list):
        return ",".join(str(_sdk_value(item)) for item in value)
    if isinstance(value, str) and value.startswith("/Date("):
        moment = odata_date.parse_datetime(value)
        if moment is not None:
            return iso_millis(moment)
    return value


def _wrapped(value: Mapping[str, Any]) -> Any:
    """Typed wrappers: ``__value`` (Guid, DateTime), ``Value`` (Money, choice), ``Id``."""
    if "__value" in value:
        return _sdk_value(value["__value"])
    if "Value" in value:
        return value["Value"]
    return str(value["Id"]).lower() if "Id" in value else None


def _when(raw: Any) -> str:
    if isinstance(raw, str):
        moment = odata_date.parse_datetime(raw)
        if moment is not None:
            return iso_millis(moment)
    return iso_millis(dt.datetime.now(dt.UTC))


def _text(value: Any) -> str | None:
    return None if value is None else str(value).lower()
