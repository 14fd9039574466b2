"""Changed-fields-only commands: the target fields a master-data command writes, from the event.

A flow with ``ownership:`` (see ``isthmus.mapping.writes``) puts the list of target fields to
write into ``header.writeFields``: the fields that read one of the event's
``envelope.changedFields``, without those the target system owns. A create, or an event whose
changed fields are not known, writes every field (``None``). An empty list means there is
nothing to write: the transformer issues no command for that flow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isthmus.mapping import Flow
from isthmus.transformer.core.commands import envelope_of

WRITE_FIELDS = "writeFields"


def write_fields(*, flow: Flow, event: Mapping[str, Any]) -> list[str] | None:
    """The target fields this event's change writes; None writes all (create, or not known)."""
    plan = flow.writes
    if plan is None:
        return None
    envelope = envelope_of(event)
    changed = envelope.get("changedFields") or []
    if envelope.get("operation") == "CREATED" or not changed:
        return None
    return list(plan.fields_for(changed))


def with_write_fields(
    target: Mapping[str, Any], fields: list[str] | None, *, flow: Flow | None = None
) -> dict[str, Any]:
    """The target with ``header.writeFields`` set (left out when None: write everything).

    With the flow, nested fields the target system owns are cleared too (a create writes all).
    """
    if flow is not None and flow.writes is not None:
        target = flow.writes.withhold(target)
    if fields is None:
        return dict(target)
    header = dict(target.get("header") or {})
    header[WRITE_FIELDS] = fields
    return {**target, "header": header}
