"""Builds the RemoteExecutionContext JSON Dataverse posts to webhooks."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from isthmus.sandbox_d365.business.rows import WriteEvent
from isthmus.sandbox_d365.odata.schema import Kind, Table
from isthmus.sandbox_kit.odata_date import format_date, parse_iso

CONTRACTS = "http://schemas.microsoft.com/xrm/2011/Contracts"
_SKIP = {"versionnumber"}
_OWNERS = {"ownerid", "createdby", "modifiedby"}
_WRAPPERS = {Kind.MONEY: "Money", Kind.CHOICE: "OptionSetValue"}


def wcf_date(value: str) -> str:
    """``2024-06-12T14:13:25Z`` or ``2024-06-12`` → ``/Date(1718201605000)/``."""
    return format_date(parse_iso(value if "T" in value else f"{value}T00:00:00Z"))


def reference(logical: str, row_id: str) -> dict[str, Any]:
    """An EntityReference value."""
    return {
        "__type": f"EntityReference:{CONTRACTS}",
        "Id": row_id,
        "KeyAttributes": [],
        "LogicalName": logical,
        "Name": None,
        "RowVersion": None,
    }


def _typed(table: Table, row: dict[str, Any], name: str, value: Any) -> tuple[str, Any] | None:
    if name.startswith("~") or name in _SKIP:
        return None
    if name.startswith("_") and name.endswith("_value"):
        attribute = name[1:-6]
        if value is None:
            return attribute, None
        logical = "systemuser" if attribute in _OWNERS else row.get(f"~{attribute}")
        lookup = table.lookups.get(attribute)
        logical = logical or (next(iter(lookup.targets.values()), None) if lookup else None)
        return attribute, reference(logical or "systemuser", value)
    return name, _sdk_value(table.kind_of(name), value)


def _sdk_value(kind: Kind | None, value: Any) -> Any:
    if value is None or kind is None:
        return value
    if kind in (Kind.DATETIME, Kind.DATE):
        return wcf_date(value)
    wrapper = _WRAPPERS.get(kind)
    return value if wrapper is None else {"__type": f"{wrapper}:{CONTRACTS}", "Value": value}


def entity(
    table: Table, row_id: str, values: dict[str, Any], *, typed: bool = True
) -> dict[str, Any]:
    """An ``Entity`` with its attributes as ``{key, value}`` pairs."""
    attributes = []
    for name, value in values.items():
        pair = _typed(table, values, name, value)
        if pair is not None:
            attributes.append({"key": pair[0], "value": pair[1]})
    body: dict[str, Any] = {"__type": f"Entity:{CONTRACTS}"} if typed else {}
    return {
        **body,
        "Attributes": attributes,
        "EntityState": None,
        "FormattedValues": [],
        "Id": row_id,
        "KeyAttributes": [],
        "LogicalName": table.logical,
        "RelatedEntities": [],
        "RowVersion": None,
    }


def _images(event: WriteEvent, *, mode: int, images: str) -> tuple[list[Any], list[Any]]:
    """Pre and post entity images: full ones when the step asks, else the async primary name."""
    table, row_id = event.table, event.row_id
    pre: list[Any] = []
    post: list[Any] = []
    if "post" in images and event.post:
        post.append({"key": "PostImage", "value": entity(table, row_id, event.post, typed=False)})
    elif mode == 1 and event.post:
        primary = {table.primary_name: event.post.get(table.primary_name), table.key: row_id}
        image = entity(table, row_id, primary, typed=False)
        post.append({"key": "AsynchronousStepPrimaryName", "value": image})
    if "pre" in images and event.pre:
        pre.append({"key": "PreImage", "value": entity(table, row_id, event.pre, typed=False)})
    return pre, post


def build_context(
    event: WriteEvent, *, step_id: str, step_name: str, mode: int, org: dict[str, str], images: str
) -> dict[str, Any]:
    """The RemoteExecutionContext for one event and one step (post-operation, stage 40)."""
    table = event.table
    if event.message == "Delete":
        target: dict[str, Any] = reference(table.logical, event.row_id)
    else:
        target = entity(table, event.row_id, event.target)
    output = [{"key": "id", "value": event.row_id}] if event.message == "Create" else []
    pre_images, post_images = _images(event, mode=mode, images=images)
    correlation = str(uuid.uuid4())
    operation = str(uuid.uuid4())
    return {
        "BusinessUnitId": org["business_unit_id"],
        "CorrelationId": correlation,
        "Depth": 1,
        "InitiatingUserAzureActiveDirectoryObjectId": event.user_id,
        "InitiatingUserId": event.user_id,
        "InputParameters": [{"key": "Target", "value": target}],
        "IsExecutingOffline": False,
        "IsInTransaction": mode == 0,
        "IsOfflinePlayback": False,
        "IsolationMode": 1,
        "MessageName": event.message,
        "Mode": mode,
        "OperationCreatedOn": wcf_date(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
        "OperationId": operation,
        "OrganizationId": org["organization_id"],
        "OrganizationName": org["organization_name"],
        "OutputParameters": output,
        "OwningExtension": {
            "Id": step_id,
            "KeyAttributes": [],
            "LogicalName": "sdkmessageprocessingstep",
            "Name": step_name,
            "RowVersion": None,
        },
        "ParentContext": None,
        "PostEntityImages": post_images,
        "PreEntityImages": pre_images,
        "PrimaryEntityId": event.row_id,
        "PrimaryEntityName": table.logical,
        "RequestId": operation if mode == 0 else None,
        "SecondaryEntityName": "none",
        "SharedVariables": [],
        "Stage": 40,
        "UserAzureActiveDirectoryObjectId": event.user_id,
        "UserId": event.user_id,
    }
