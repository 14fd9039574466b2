"""The value of one ``io.isthmus.common.CrossReference`` record of the ``xref.ids`` topic."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

XREF_SCHEMA = "io.isthmus.common.CrossReference"


def cross_reference(
    entity: str,
    *,
    d365_id: str,
    s4_id: str,
    created_by: str = "S4",
    flow: str | None = None,
    linked_at: datetime | None = None,
) -> dict[str, Any]:
    """A link of a Dataverse id to an S/4 id of ``entity`` (linked now unless ``linked_at``)."""
    return {
        "entity": entity,
        "d365Id": d365_id,
        "s4Id": s4_id,
        "linkedAt": linked_at or datetime.now(UTC),
        "createdBy": created_by,
        "flow": flow,
    }
