"""Row helpers shared across the Web API: write events, timestamps, ETags, not-found errors."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from isthmus.sandbox_d365.business.store import Row
from isthmus.sandbox_d365.errors import NotFoundError
from isthmus.sandbox_d365.odata.refs import KeyRef
from isthmus.sandbox_d365.odata.schema import Table


@dataclass
class WriteEvent:
    """One committed write, for webhooks: Target attributes plus pre and post images."""

    message: str
    table: Table
    row_id: str
    target: Row
    pre: Row | None
    post: Row | None
    user_id: str


def now_iso() -> str:
    """The current UTC time as Dataverse serialises it."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def etag_of(row: Row) -> str:
    """The weak ETag of a row."""
    return f'W/"{row.get("versionnumber", 0)}"'


def not_found(table: Table, ref: KeyRef) -> NotFoundError:
    """The 404 Dataverse sends for a missing row."""
    if ref.row_id is not None:
        return NotFoundError(f"{table.logical} With Id = {ref.row_id} Does Not Exist")
    return NotFoundError(
        f"A record with the specified key values does not exist in {table.logical} entity"
    )
