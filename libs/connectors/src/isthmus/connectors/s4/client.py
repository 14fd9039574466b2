"""The S/4HANA OData V2 client: reads with paging, deep-insert creates, ETag updates, $batch."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.multipart import BatchPart, build_batch, parse_batch
from isthmus.connectors.s4.base import Call, S4Base
from isthmus.connectors.s4.batch import S4BatchResult
from isthmus.connectors.s4.errors import SapMessage
from isthmus.connectors.s4.odata import (
    EntityKey,
    S4Entity,
    S4Page,
    V2Value,
    entity_from,
    key_predicate,
    key_template,
    page_from,
    query_options,
    sap_messages,
    v2_literal,
)
from isthmus.connectors.s4.soap import JournalEntryOperations

__all__ = ["S4BatchResult", "S4Client", "S4WriteResult"]


@dataclass(frozen=True)
class S4WriteResult:
    """What an update or delete returned: the new ETag (if sent) and any ``sap-message``."""

    etag: str | None
    messages: tuple[SapMessage, ...]


class S4Client(JournalEntryOperations, S4Base):
    """Async client for one S/4HANA system; services are named per call (``API_SALES_ORDER_SRV``).

    Build it with ``S4Client.connect(settings=...)``; close it with ``aclose`` or ``async with``.
    """

    def _url(self, service: str, path: str) -> str:
        return self.settings.service_url(service) + path

    async def read(
        self,
        service: str,
        entity_set: str,
        key: EntityKey,
        *,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
    ) -> S4Entity:
        """Read one entity.

        Raises:
            S4NotFoundError: no such entity.
        """
        path = f"{entity_set}{key_predicate(key)}"
        response = await self._call(
            Call(
                "GET",
                self._url(service, path),
                template=f"{service}/{entity_set}{key_template(key)}",
                params=query_options(select=select, expand=expand),
                ok=(200,),
            )
        )
        return entity_from(response)

    async def iter_pages(
        self,
        service: str,
        entity_set: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        orderby: str | None = None,
        top: int | None = None,
        skip: int | None = None,
        inlinecount: bool = False,
    ) -> AsyncIterator[S4Page]:
        """Yield the pages of a collection read, following ``__next`` until it is absent."""
        params: dict[str, str] | None = query_options(
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            top=top,
            skip=skip,
            inlinecount=inlinecount,
        )
        url: str | None = self._url(service, entity_set)
        while url is not None:
            call = Call("GET", url, template=f"{service}/{entity_set}", params=params, ok=(200,))
            page = page_from(await self._call(call))
            params = None
            url = page.next_link
            yield page

    async def query(
        self,
        service: str,
        entity_set: str,
        *,
        filter: str | None = None,
        select: Sequence[str] | None = None,
        expand: Sequence[str] | None = None,
        orderby: str | None = None,
        top: int | None = None,
    ) -> list[dict[str, Any]]:
        """Every row of a collection read, across server-driven pages."""
        rows: list[dict[str, Any]] = []
        async for page in self.iter_pages(
            service,
            entity_set,
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            top=top,
        ):
            rows.extend(page.rows)
        return rows

    async def create(self, service: str, entity_set: str, body: Mapping[str, Any]) -> S4Entity:
        """Create an entity, with nested navigations for a deep insert (atomic).

        Not retried once the request may have reached the server; use the idempotency helpers
        for business documents.

        Raises:
            S4ValidationError: the payload was rejected (SAP messages in ``details``).
        """
        call = Call(
            "POST",
            self._url(service, entity_set),
            template=f"{service}/{entity_set}",
            json=dict(body),
            ok=(201,),
            idempotent=False,
            csrf_service=service,
        )
        return entity_from(await self._call(call))

    async def update(
        self,
        service: str,
        entity_set: str,
        key: EntityKey,
        changes: Mapping[str, Any],
        *,
        etag: str | None = None,
    ) -> S4WriteResult:
        """PATCH an entity with ``If-Match``; without ``etag`` the current one is read first.

        Raises:
            S4PreconditionError: the entity changed since ``etag`` was read.
            S4NotFoundError: no such entity.
        """
        if etag is None:
            etag = (await self.read(service, entity_set, key)).etag or "*"
        return await self._write("PATCH", service, entity_set, key, dict(changes), etag=etag)

    async def delete(
        self, service: str, entity_set: str, key: EntityKey, *, etag: str = "*"
    ) -> S4WriteResult:
        """Delete an entity (``If-Match: etag``).

        Raises:
            S4PreconditionError: the entity changed since ``etag`` was read.
        """
        return await self._write("DELETE", service, entity_set, key, None, etag=etag)

    async def _write(
        self,
        method: str,
        service: str,
        entity_set: str,
        key: EntityKey,
        body: dict[str, Any] | None,
        *,
        etag: str,
    ) -> S4WriteResult:
        call = Call(
            method,
            self._url(service, f"{entity_set}{key_predicate(key)}"),
            template=f"{service}/{entity_set}{key_template(key)}",
            json=body,
            headers={"If-Match": etag},
            ok=(204, 200),
            csrf_service=service,
        )
        response = await self._call(call)
        return S4WriteResult(etag=response.headers.get("etag"), messages=sap_messages(response))

    async def call_function(
        self,
        service: str,
        name: str,
        *,
        params: Mapping[str, V2Value],
        method: str = "POST",
        etag: str | None = None,
    ) -> S4Entity | None:
        """Call a function import such as ``PostGoodsIssue`` (parameters as V2 literals).

        A POST is treated as not idempotent: it is not resent once it may have arrived.

        Raises:
            S4PreconditionError: ``etag`` is stale (or missing where S/4 demands one).
            S4Error: the call failed.
        """
        modifying = method.upper() != "GET"
        call = Call(
            method,
            self._url(service, name),
            template=f"{service}/{name}",
            params={key: v2_literal(value) for key, value in params.items()},
            headers={"If-Match": etag} if etag else None,
            ok=(200, 204),
            idempotent=not modifying,
            csrf_service=service if modifying else None,
        )
        response = await self._call(call)
        return entity_from(response) if response.content else None

    async def batch(self, service: str, parts: Sequence[BatchPart]) -> S4BatchResult:
        """Send one ``$batch`` (URLs in parts relative to the service root).

        Raises:
            S4Error: the batch request as a whole failed.
        """
        content_type, body = build_batch(parts)
        call = Call(
            "POST",
            self._url(service, "$batch"),
            template=f"{service}/$batch",
            content=body,
            headers={"Content-Type": content_type, "Accept": "multipart/mixed"},
            ok=(202, 200),
            idempotent=False,
            csrf_service=service,
        )
        response = await self._call(call)
        responses = parse_batch(response.text, content_type=response.headers["content-type"])
        return S4BatchResult(responses=responses)
