"""Generic entity operations over the store, driven by the EDMX model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from isthmus.sandbox_kit.odata_date import format_date, is_date, parse_date
from isthmus.sandbox_s4.errors import (
    BusinessError,
    MalformedRequestError,
    MessageDetail,
    PreconditionFailedError,
    PreconditionRequiredError,
    ResourceNotFoundError,
)
from isthmus.sandbox_s4.odata.edm import EntitySet, ServiceModel
from isthmus.sandbox_s4.odata.serialize import etag
from isthmus.sandbox_s4.odata.values import default_value, now_ms, to_wire, today_ms
from isthmus.sandbox_s4.store import Store

Row = dict[str, Any]


Creator = Callable[["Context", EntitySet, Row, dict[str, list[Row]]], Row]


class EventSink(Protocol):
    """Where business events go (the events module implements it)."""

    def emit(self, *, object_type: str, operation: str, data: dict[str, Any]) -> None:
        """Queue one business event for delivery after the request commits."""


@dataclass
class Context:
    """Everything one OData operation needs."""

    store: Store
    model: ServiceModel
    events: EventSink
    user: str
    models: dict[str, ServiceModel] = field(default_factory=dict)
    require_if_match: bool = True
    creators: dict[str, Creator] = field(default_factory=dict)
    messages: list[MessageDetail] = field(default_factory=list)

    def entity_set(self, name: str) -> EntitySet:
        """An entity set of this service by name."""
        return self.model.entity_sets[name]

    def model_of(self, service: str) -> ServiceModel:
        """Another service's model (documents reach across services, as in S/4HANA)."""
        return self.models[service]


def key_of(entity_set: EntitySet, row: Row) -> tuple[Any, ...]:
    """The key tuple of a row."""
    return tuple(row.get(k) for k in entity_set.entity_type.keys)


def read(ctx: Context, entity_set: EntitySet, key: dict[str, Any]) -> Row:
    """One entity by key.

    Raises:
        ResourceNotFoundError: no such entity.
    """
    values = tuple(key[k] for k in entity_set.entity_type.keys)
    row = ctx.store.get(service=ctx.model.name, entity_set=entity_set.name, key=values)
    if row is None:
        raise ResourceNotFoundError(
            f"Resource not found for segment '{entity_set.entity_type.name}'"
        )
    return row


def navigate(ctx: Context, entity_set: EntitySet, row: Row, name: str) -> list[Row]:
    """The rows a navigation property of ``row`` leads to."""
    nav = entity_set.entity_type.navigations[name]
    target = ctx.entity_set(nav.target_set)
    if not nav.join:
        return []
    wanted = {t: row.get(s) for s, t in nav.join}
    first = target.entity_type.keys[0]
    rows = ctx.store.rows(
        service=ctx.model.name,
        entity_set=target.name,
        first_key=str(wanted[first]) if first in wanted else None,
    )
    return [r for r in rows if all(r.get(t) == v for t, v in wanted.items())]


def split_payload(
    entity_set: EntitySet, payload: dict[str, Any]
) -> tuple[Row, dict[str, list[Row]]]:
    """Separate structural properties from deep-insert navigation payloads.

    Raises:
        MalformedRequestError: unknown property or malformed navigation payload.
    """
    entity = entity_set.entity_type
    props: Row = {}
    navs: dict[str, list[Row]] = {}
    for name, value in payload.items():
        if name == "__metadata":
            continue
        if name in entity.navigations:
            navs[name] = _nav_items(name, value)
        elif name in entity.properties:
            props[name] = value
        else:
            raise MalformedRequestError(
                f"Property '{name}' is invalid", code="/IWBEP/CM_MGW_RT/022"
            )
    return props, navs


def _nav_items(name: str, value: Any) -> list[Row]:
    if isinstance(value, dict) and "results" in value:
        value = value["results"]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise MalformedRequestError(f"Invalid inline payload for navigation property '{name}'")
    return value


def new_row(entity_set: EntitySet, props: Row) -> Row:
    """A full row: defaults for every property, then the creatable values of ``props``."""
    entity = entity_set.entity_type
    row = {name: default_value(p) for name, p in entity.properties.items()}
    for name, value in props.items():
        prop = entity.properties[name]
        if prop.creatable or name in entity.keys:
            row[name] = to_wire(prop, value)
    return row


def stamp_created(entity_set: EntitySet, row: Row, user: str) -> None:
    """Fill the administrative fields SAP sets on create, where the type has them."""
    props = entity_set.entity_type.properties
    stamps = {
        "CreationDate": format_date(today_ms()),
        "CreatedByUser": user,
        "LastChangeDate": format_date(today_ms()),
    }
    for name, value in stamps.items():
        if name in props:
            row[name] = value
    touch(entity_set, row, user)


def touch(entity_set: EntitySet, row: Row, user: str) -> None:
    """Move the change stamps (and so the ETag) forward."""
    props = entity_set.entity_type.properties
    if "LastChangeDateTime" in props:
        offset = props["LastChangeDateTime"].edm_type == "Edm.DateTimeOffset"
        previous = row.get("LastChangeDateTime")
        stamp = now_ms()
        if is_date(previous) and parse_date(previous) == stamp:
            stamp += 1  # two changes in one millisecond must still change the ETag
        row["LastChangeDateTime"] = format_date(stamp, offset=offset)
    if "LastChangeDate" in props:
        row["LastChangeDate"] = format_date(today_ms())
    if "LastChangedByUser" in props:
        row["LastChangedByUser"] = user
    etag_prop = entity_set.entity_type.etag_property
    if etag_prop is not None and etag_prop.edm_type == "Edm.String":
        current = str(row.get(etag_prop.name) or "0")
        row[etag_prop.name] = f"{int(current or 0) + 1:0{etag_prop.max_length or 4}d}"


def insert(ctx: Context, entity_set: EntitySet, row: Row) -> None:
    """Store a new entity.

    Raises:
        BusinessError: an entity with this key exists.
    """
    key = key_of(entity_set, row)
    if any(v is None for v in key) or all(v == "" for v in key):
        raise MalformedRequestError(f"Key property missing for {entity_set.name}")
    if ctx.store.get(service=ctx.model.name, entity_set=entity_set.name, key=key) is not None:
        raise BusinessError(
            f"{entity_set.entity_type.name} {'/'.join(map(str, key))} already exists",
            code="/IWBEP/CM_MGW_RT/025",
        )
    ctx.store.put(service=ctx.model.name, entity_set=entity_set.name, key=key, row=row)


def save(ctx: Context, entity_set: EntitySet, row: Row) -> None:
    """Write an existing entity back."""
    ctx.store.put(
        service=ctx.model.name, entity_set=entity_set.name, key=key_of(entity_set, row), row=row
    )


def check_if_match(
    entity_set: EntitySet, row: Row, if_match: str | None, *, required: bool
) -> None:
    """Enforce optimistic concurrency for types with an ETag.

    Raises:
        PreconditionRequiredError: If-Match missing while required.
        PreconditionFailedError: If-Match names another version.
    """
    current = etag(entity_set, row)
    if current is None:
        return
    if if_match is None:
        if required:
            raise PreconditionRequiredError("Operation requires an If-Match header")
        return
    accepted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in accepted and current not in accepted:
        raise PreconditionFailedError(
            "State of the resource (entity) was already changed (If-Match)"
        )


def apply_update(entity_set: EntitySet, row: Row, props: Row, *, replace: bool) -> Row:
    """The row after PATCH/MERGE (``replace=False``) or PUT (``replace=True``)."""
    entity = entity_set.entity_type
    updated = dict(row)
    if replace:
        for name, prop in entity.properties.items():
            if prop.updatable and name not in entity.keys:
                updated[name] = default_value(prop)
    for name, value in props.items():
        prop = entity.properties[name]
        if prop.updatable and name not in entity.keys:
            updated[name] = to_wire(prop, value)
    return updated


def create_children(
    ctx: Context, entity_set: EntitySet, row: Row, navs: dict[str, list[Row]]
) -> None:
    """Deep insert: create each inline child with the parent's join columns filled in."""
    for name, items in navs.items():
        nav = entity_set.entity_type.navigations[name]
        target = ctx.entity_set(nav.target_set)
        for item in items:
            props, child_navs = split_payload(target, item)
            props.update({t: row.get(s) for s, t in nav.join})
            creator_for(ctx, target.name)(ctx, target, props, child_navs)


def generic_create(
    ctx: Context, entity_set: EntitySet, props: Row, navs: dict[str, list[Row]]
) -> Row:
    """Create an entity whose keys the client supplies, with its inline children."""
    row = new_row(entity_set, props)
    stamp_created(entity_set, row, ctx.user)
    insert(ctx, entity_set, row)
    create_children(ctx, entity_set, row, navs)
    return row


def creator_for(ctx: Context, entity_set: str) -> Creator:
    """The service's own creator for a set, or the generic one."""
    return ctx.creators.get(entity_set, generic_create)
