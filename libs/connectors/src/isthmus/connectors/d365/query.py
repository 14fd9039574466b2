"""Dataverse reads of many rows: paged queries and change tracking with delta links."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from isthmus.connectors.d365.base import DataverseBase
from isthmus.connectors.d365.errors import DataverseUnexpectedError


@dataclass(frozen=True)
class Page:
    """One page of a query; ``next_link`` is None on the last page."""

    rows: list[dict[str, Any]]
    next_link: str | None
    count: int | None = None


@dataclass(frozen=True)
class ChangePage:
    """One page of changes; the last page of a sync carries the delta link to persist.

    Attributes:
        rows: new or changed rows, in the normal row shape.
        deleted: ids of rows deleted since the previous delta link.
        delta_link: only on the last page: where the next sync starts. Persist it after the page
            has been processed, and pass it to ``iter_changes`` next time.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[uuid.UUID] = field(default_factory=list)
    delta_link: str | None = None


def query_params(
    *,
    select: Sequence[str] | None = None,
    filter: str | None = None,
    orderby: str | None = None,
    top: int | None = None,
    expand: str | None = None,
    count: bool = False,
) -> dict[str, str]:
    """The system query options as URL parameters ($skip does not exist in Dataverse)."""
    params: dict[str, str] = {}
    if select:
        params["$select"] = ",".join(select)
    if filter:
        params["$filter"] = filter
    if orderby:
        params["$orderby"] = orderby
    if top is not None:
        params["$top"] = str(top)
    if expand:
        params["$expand"] = expand
    if count:
        params["$count"] = "true"
    return params


def split_changes(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[uuid.UUID]]:
    """Separate changed rows from ``$deletedEntity`` tombstones."""
    changed: list[dict[str, Any]] = []
    deleted: list[uuid.UUID] = []
    for row in rows:
        context = str(row.get("@odata.context", ""))
        if context.endswith("$deletedEntity") or row.get("reason") == "deleted":
            deleted.append(uuid.UUID(str(row["id"])))
        else:
            changed.append(row)
    return changed, deleted


class QueryOperations(DataverseBase):
    """Paged queries and change tracking."""

    async def iter_pages(
        self,
        entity_set: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        orderby: str | None = None,
        expand: str | None = None,
        count: bool = False,
        page_size: int | None = None,
    ) -> AsyncIterator[Page]:
        """Yield every page of a query, following ``@odata.nextLink`` unchanged.

        Raises:
            DataverseError: a page could not be read.
        """
        prefer = f"odata.maxpagesize={page_size or self.settings.page_size}"
        params = query_params(
            select=select, filter=filter, orderby=orderby, expand=expand, count=count
        )
        url: str | None = entity_set
        first = True
        while url is not None:
            response = await self._call(
                "GET",
                url,
                template=f"{entity_set}",
                params=params if first else None,
                headers={"Prefer": prefer},
            )
            body = response.json()
            url = body.get("@odata.nextLink")
            first = False
            rows = list(body.get("value", []))
            yield Page(rows=rows, next_link=url, count=body.get("@odata.count"))

    async def query(
        self,
        entity_set: str,
        *,
        select: Sequence[str] | None = None,
        filter: str | None = None,
        orderby: str | None = None,
        expand: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every row of a query across all pages."""
        async for page in self.iter_pages(
            entity_set,
            select=select,
            filter=filter,
            orderby=orderby,
            expand=expand,
            page_size=page_size,
        ):
            for row in page.rows:
                yield row

    async def iter_changes(
        self,
        entity_set: str,
        *,
        select: Sequence[str] | None = None,
        delta_link: str | None = None,
        page_size: int | None = None,
    ) -> AsyncIterator[ChangePage]:
        """Yield the changes since ``delta_link`` (all rows when None), page by page.

        The last page carries the new delta link; the caller persists it once that page is
        processed. ``$filter``, ``$orderby``, ``$expand`` and ``$top`` are not allowed here.

        Raises:
            DataverseError: a page could not be read (an expired delta token is a validation
                error: start again with ``delta_link=None``).
        """
        prefer = f"odata.track-changes,odata.maxpagesize={page_size or self.settings.page_size}"
        url: str | None = delta_link or entity_set
        params = None if delta_link else query_params(select=select)
        while url is not None:
            response = await self._call(
                "GET", url, template=f"{entity_set}", params=params, headers={"Prefer": prefer}
            )
            params = None
            body = response.json()
            changed, deleted = split_changes(list(body.get("value", [])))
            url = body.get("@odata.nextLink")
            new_delta = body.get("@odata.deltaLink")
            if url is None and new_delta is None:
                raise DataverseUnexpectedError("change-tracking answer without a delta link")
            yield ChangePage(rows=changed, deleted=deleted, delta_link=new_delta)
