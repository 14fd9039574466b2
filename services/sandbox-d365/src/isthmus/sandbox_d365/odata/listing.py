"""Collection reads: filter, order, ``$top``, ``$count``, paging and change tracking."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote, unquote, urlencode

from isthmus.sandbox_d365.business.store import Row
from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse
from isthmus.sandbox_d365.odata.query import Query
from isthmus.sandbox_d365.odata.schema import Table
from isthmus.sandbox_d365.odata.selection import select_rows
from isthmus.sandbox_d365.odata.serialize import Serializer

MAX_PAGE = 5000
_PAGE = re.compile(r'pagenumber="(\d+)"')
_LAST = re.compile(r'last="\{([0-9A-Fa-f-]{36})\}"')
_TRACKING_FORBIDDEN = ("$filter", "$orderby", "$expand", "$top")


class Listing:
    """Answers ``GET /<entityset>`` for one request."""

    def __init__(self, *, serializer: Serializer, request: ApiRequest, table: Table) -> None:
        self._ser = serializer
        self._request = request
        self._table = table
        self._prefer = request.prefer()

    def respond(self, query: Query) -> ApiResponse:
        """The collection page (or delta) as JSON.

        Raises:
            QueryError: invalid options or options not allowed with change tracking.
        """
        tracking = "odata.track-changes" in self._prefer
        if query.deltatoken is not None:
            return self._delta(query)
        if tracking:
            for option in _TRACKING_FORBIDDEN:
                if option in query.raw:
                    raise QueryError(
                        f'The "{option}" query parameter isn\'t supported when Change '
                        "Tracking is enabled."
                    )
        rows = self._matching(query)
        return self._page(query, rows, tracking=tracking)

    def _matching(self, query: Query) -> list[Row]:
        ser = self._ser
        rows = ser.store.all(self._table.logical)
        return select_rows(
            rows, table=self._table, query=query, store=ser.store, catalogue=ser.catalogue
        )

    def _page_size(self) -> int | None:
        raw = self._prefer.get("odata.maxpagesize")
        if raw is None:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise QueryError(f"The value '{raw}' of odata.maxpagesize is not valid.")
        return min(int(raw), MAX_PAGE)

    def _page(self, query: Query, rows: list[Row], *, tracking: bool) -> ApiResponse:
        size = self._page_size()
        page, last = _cookie(query.skiptoken)
        applied: list[str] = []
        total = len(rows)
        if size is None:
            size = MAX_PAGE
            if query.top is not None:
                rows = rows[: query.top]
        else:
            applied.append(f"odata.maxpagesize={size}")
        start = _resume_at(rows, self._table.key, last, default=(page - 1) * size)
        chunk = rows[start : start + size]
        body: dict[str, Any] = {
            "@odata.context": self._ser.context(self._table, query, entity=False)
        }
        if query.count:
            body["@odata.count"] = min(total, MAX_PAGE)
            body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] = total > MAX_PAGE
        body["value"] = [self._ser.entity(self._table, r, query) for r in chunk]
        if start + size < len(rows):
            body["@odata.nextLink"] = self._next_link(query, page + 1, chunk)
        elif tracking:
            body["@odata.deltaLink"] = self._delta_link(query)
        if tracking:
            applied.append("odata.track-changes")
        if self._ser.annotations.patterns:
            applied.append(
                f'odata.include-annotations="{",".join(self._ser.annotations.patterns)}"'
            )
        headers = {"Preference-Applied": ",".join(applied)} if applied else {}
        return ApiResponse.of_json(200, body, headers)

    def _link(self, options: dict[str, str]) -> str:
        return f"{self._ser.base}/{self._table.entity_set}?" + urlencode(
            options, safe="$,()'=", quote_via=quote
        )

    def _next_link(self, query: Query, page: int, chunk: list[Row]) -> str:
        key = self._table.key
        first = chunk[0][key].upper() if chunk else ""
        last = chunk[-1][key].upper() if chunk else ""
        inner = quote(
            f'<cookie page="{page - 1}"><{key} last="{{{last}}}" first="{{{first}}}" /></cookie>'
        )
        cookie = f'<cookie pagenumber="{page}" pagingcookie="{quote(inner)}" istracking="False" />'
        options = {k: v for k, v in query.raw.items() if k != "$skiptoken"}
        options["$skiptoken"] = cookie
        return self._link(options)

    def _delta_link(self, query: Query) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%m/%d/%Y %H:%M:%S")
        options = {k: v for k, v in query.raw.items() if k in ("$select",)}
        options["$deltatoken"] = f"{self._ser.store.version}!{stamp}"
        return self._link(options)

    def _delta(self, query: Query) -> ApiResponse:
        token = query.deltatoken or ""
        version_text = unquote(token).split("!", 1)[0]
        if not version_text.isdigit():
            raise QueryError("The delta token is not valid or has expired.")
        since = int(version_text)
        changed = [
            r for r in self._ser.store.all(self._table.logical) if r.get("versionnumber", 0) > since
        ]
        changed.sort(key=lambda r: r.get("versionnumber", 0))
        context = self._ser.context(self._table, query, entity=False) + "/$delta"
        value: list[dict[str, Any]] = [self._ser.entity(self._table, r, query) for r in changed]
        live = {r[self._table.key] for r in changed}
        for row_id, _ in self._ser.store.tombstones(self._table.logical, since):
            if row_id not in live:
                value.append(
                    {
                        "@odata.context": f"{self._ser.base}/$metadata#"
                        f"{self._table.entity_set}/$deletedEntity",
                        "id": row_id,
                        "reason": "deleted",
                    }
                )
        body = {
            "@odata.context": context,
            "value": value,
            "@odata.deltaLink": self._delta_link(query),
        }
        return ApiResponse.of_json(200, body, {"Preference-Applied": "odata.track-changes"})


def _cookie(skiptoken: str | None) -> tuple[int, str | None]:
    """Page number and last row id of a ``$skiptoken`` paging cookie (1, None without one).

    Raises:
        QueryError: the token is not a paging cookie.
    """
    if not skiptoken:
        return 1, None
    text = unquote(unquote(skiptoken))
    page = _PAGE.search(text)
    if page is None:
        raise QueryError("The $skiptoken value is not valid.")
    last = _LAST.search(text)
    return int(page.group(1)), None if last is None else last.group(1).lower()


def _resume_at(rows: list[Row], key: str, last: str | None, *, default: int) -> int:
    """Continue after the cookie's last row (keyset paging), else at the page offset."""
    if last is not None:
        for index, row in enumerate(rows):
            if row[key] == last:
                return index + 1
    return default
