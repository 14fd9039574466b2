"""The Dataverse client: create, retrieve, update, upsert by alternate key, delete."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from isthmus.connectors.d365.base import Record
from isthmus.connectors.d365.batch import BatchOperations
from isthmus.connectors.d365.keys import RecordKey, entity_id, key_segment, key_template
from isthmus.connectors.d365.query import QueryOperations, query_params

UpsertMode = Literal["upsert", "create_only", "update_only"]
_CREATED = 201


@dataclass(frozen=True)
class WriteResult:
    """What a write returned.

    Attributes:
        entity_url: the ``OData-EntityId`` (or the representation's id), when known.
        entity_id: the row's GUID, when the answer names it.
        created: True/False for an upsert answered with a representation, else None.
        record: the row, when ``return_representation`` was asked for.
        etag: the row's new ETag, when returned.
    """

    entity_url: str | None
    entity_id: uuid.UUID | None
    created: bool | None = None
    record: dict[str, Any] | None = None
    etag: str | None = None


def primary_key(entity_set: str) -> str:
    """The primary-key column by Dataverse's naming: ``accounts`` → ``accountid``."""
    singular = entity_set[:-3] + "y" if entity_set.endswith("ies") else entity_set.removesuffix("s")
    return f"{singular}id"


def _prefer(return_representation: bool) -> dict[str, str]:
    return {"Prefer": "return=representation"} if return_representation else {}


def _result(response: httpx.Response, *, entity_set: str, upsert: bool) -> WriteResult:
    url = response.headers.get("odata-entityid")
    record: dict[str, Any] | None = None
    etag = response.headers.get("etag")
    found: uuid.UUID | None = entity_id(url) if url else None
    if response.content:
        record = response.json()
        etag = etag or record.get("@odata.etag")
        pk = record.get(primary_key(entity_set))
        found = found or (uuid.UUID(pk) if isinstance(pk, str) else None)
    created = (response.status_code == _CREATED) if upsert and record is not None else None
    return WriteResult(entity_url=url, entity_id=found, created=created, record=record, etag=etag)


class DataverseClient(QueryOperations, BatchOperations):
    """Async Dataverse Web API client for one environment and one application user.

    Build it with ``DataverseClient.connect(settings=...)`` and close it with ``aclose`` (or use
    ``async with``). Every call goes through the credential's governor and the retry policy.
    """

    async def who_am_i(self) -> dict[str, Any]:
        """The ``WhoAmI`` answer (user, business unit, organization): a connectivity probe.

        Raises:
            DataverseError: the environment cannot be reached or refuses the credential.
        """
        response = await self._call("GET", "WhoAmI", template="WhoAmI", ok=(200,))
        body: dict[str, Any] = response.json()
        return body

    async def create(
        self, entity_set: str, data: Mapping[str, Any], *, return_representation: bool = False
    ) -> WriteResult:
        """Create a row (deep insert allowed). Not retried after the request may have arrived.

        Raises:
            DataverseDuplicateError: a row with the same key exists.
            DataverseValidationError: Dataverse rejected the payload.
            DataverseError: any other failure.
        """
        response = await self._call(
            "POST",
            entity_set,
            template=entity_set,
            json=dict(data),
            headers=_prefer(return_representation),
            idempotent=False,
        )
        return _result(response, entity_set=entity_set, upsert=False)

    async def retrieve(
        self,
        entity_set: str,
        key: RecordKey,
        *,
        select: Sequence[str] | None = None,
        expand: str | None = None,
    ) -> Record:
        """Read one row by GUID or alternate key.

        Raises:
            DataverseNotFoundError: no such row.
        """
        response = await self._call_row(
            "GET", entity_set, key, params=query_params(select=select, expand=expand), ok=(200,)
        )
        body = response.json()
        return Record(data=body, etag=body.get("@odata.etag"))

    async def update(
        self,
        entity_set: str,
        key: RecordKey,
        data: Mapping[str, Any],
        *,
        etag: str | None = None,
        return_representation: bool = False,
    ) -> WriteResult:
        """Update an existing row; with ``etag`` only if it is unchanged since read.

        Raises:
            DataverseNotFoundError: no such row (an update never creates).
            DataversePreconditionError: the row changed since ``etag`` was read.
        """
        headers = {"If-Match": etag or "*", **_prefer(return_representation)}
        return await self._patch(entity_set, key, data, headers=headers, upsert=False)

    async def upsert(
        self,
        entity_set: str,
        key: RecordKey,
        data: Mapping[str, Any],
        *,
        mode: UpsertMode = "upsert",
        return_representation: bool = False,
    ) -> WriteResult:
        """Create or update the row with ``key`` (idempotent: safe to repeat).

        ``mode="create_only"`` sends ``If-None-Match: *`` and ``"update_only"`` ``If-Match: *``.

        Raises:
            DataverseDuplicateError: create_only and the row exists.
            DataverseNotFoundError: update_only and the row does not exist.
            DataverseValidationError: Dataverse rejected the payload.
        """
        headers = dict(_prefer(return_representation))
        if mode == "create_only":
            headers["If-None-Match"] = "*"
        elif mode == "update_only":
            headers["If-Match"] = "*"
        return await self._patch(entity_set, key, data, headers=headers, upsert=True)

    async def delete(self, entity_set: str, key: RecordKey, *, etag: str | None = None) -> None:
        """Delete a row; with ``etag`` only if it is unchanged since read.

        Raises:
            DataverseNotFoundError: no such row.
            DataversePreconditionError: the row changed since ``etag`` was read.
        """
        headers = {"If-Match": etag} if etag else None
        await self._call_row("DELETE", entity_set, key, headers=headers)

    async def _call_row(
        self,
        method: str,
        entity_set: str,
        key: RecordKey,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        ok: Collection[int] = (200, 201, 204),
    ) -> httpx.Response:
        """One call on the row with ``key``, named by the key's template in spans."""
        return await self._call(
            method,
            f"{entity_set}{key_segment(key)}",
            template=f"{entity_set}{key_template(key)}",
            json=json,
            headers=headers,
            params=params,
            ok=ok,
        )

    async def _patch(
        self,
        entity_set: str,
        key: RecordKey,
        data: Mapping[str, Any],
        *,
        headers: Mapping[str, str],
        upsert: bool,
    ) -> WriteResult:
        """PATCH the row with ``key`` and read what the write returned."""
        response = await self._call_row("PATCH", entity_set, key, json=dict(data), headers=headers)
        return _result(response, entity_set=entity_set, upsert=upsert)
