"""The Dataverse executor: a wave becomes one ``$batch`` of upserts (or one call per command)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from isthmus.connectors.d365.batch import part_error
from isthmus.connectors.d365.client import DataverseClient, primary_key
from isthmus.connectors.d365.keys import key_segment
from isthmus.connectors.errors import ConnectorError, NotFoundError
from isthmus.connectors.multipart import BatchOperation, PartResponse
from isthmus.d365_sink.adapters.dataverse_invoices import InvoiceWriter
from isthmus.d365_sink.core import payloads as p
from isthmus.sink.errors import (
    CommandFailedError,
    DependencyMissingError,
    FailureClass,
    from_connector,
)
from isthmus.sink.model import Command, Outcome, ResultStatus, Success
from isthmus.sink.waves import chunks

ENTITIES = tuple(p.BUILDERS)
T = TypeVar("T")


class DataverseExecutor:
    """Upserts by alternate key: idempotent, so a redelivered command changes nothing twice."""

    system = "d365"

    def __init__(
        self,
        *,
        client: DataverseClient,
        batched: bool,
        batch_size: int = 100,
        concurrency: int = 16,
    ) -> None:
        self._client = client
        self._batched = batched
        self._batch_size = batch_size
        # The $batch requests of a wave go out side by side (the governor still caps them).
        self._slots = asyncio.Semaphore(concurrency)
        self._ids: dict[p.Lookup, str] = {}
        self._invoices = InvoiceWriter(client=client)

    async def execute(self, commands: Sequence[Command]) -> list[Outcome]:
        """One outcome per command (failures returned, not raised)."""
        outcomes: list[Outcome | None] = [None] * len(commands)
        ready: list[tuple[int, p.Write]] = []
        for index, command in enumerate(commands):
            write = _write(command)
            if isinstance(write, p.Write) and p.lookups_of(write):
                write = await self._bound(write)
            if isinstance(write, CommandFailedError):
                outcomes[index] = write
            elif not write.body:  # a change of nothing this side may write
                outcomes[index] = _nothing_to_write(write)
            else:
                ready.append((index, write))
        invoices = [(i, w) for i, w in ready if w.lines]
        for (index, _), outcome in zip(invoices, await self._invoices_of(invoices), strict=True):
            outcomes[index] = outcome
        ready = [r for r in ready if not r[1].lines]
        if self._batched and len(ready) > 1:
            parts = chunks(ready, size=self._batch_size)
            answers = await asyncio.gather(*(self._limited(self._batch(c)) for c in parts))
            for chunk, answer in zip(parts, answers, strict=True):
                for (index, _), outcome in zip(chunk, answer, strict=True):
                    outcomes[index] = outcome
        else:
            for index, write in ready:
                outcomes[index] = await self._single(write)
        return [o for o in outcomes if o is not None]

    async def _invoices_of(self, writes: list[tuple[int, p.Write]]) -> list[Outcome]:
        if not self._batched:
            return [await self._invoices.write(write) for _, write in writes]
        return list(
            await asyncio.gather(*(self._limited(self._invoices.write(w)) for _, w in writes))
        )

    async def _limited(self, work: Awaitable[T]) -> T:
        """Run ``work`` once one of the ``concurrency`` slots is free."""
        async with self._slots:
            return await work

    async def _bound(self, write: p.Write) -> p.Write | CommandFailedError:
        """Resolve the write's lookups (cached per process) and bind them by id."""
        try:
            for lookup in p.lookups_of(write):
                if lookup not in self._ids:
                    self._ids[lookup] = await self._find(lookup)
        except CommandFailedError as exc:
            return exc
        except ConnectorError as exc:
            return from_connector(exc)
        return p.with_binds(write, self._ids)

    async def _find(self, lookup: p.Lookup) -> str:
        column = primary_key(lookup.entity_set)
        text = lookup.value.replace("'", "''")
        async for row in self._client.query(
            lookup.entity_set, select=[column], filter=f"{lookup.column} eq '{text}'"
        ):
            return str(row[column])
        raise CommandFailedError(
            f"no {lookup.entity_set} row with {lookup.column} '{lookup.value}'",
            failure=FailureClass.VALIDATION,
        )

    async def probe(self) -> None:
        """``WhoAmI``: authenticated and cheap."""
        try:
            await self._client.who_am_i()
        except ConnectorError as exc:
            raise from_connector(exc) from exc

    async def aclose(self) -> None:
        """Close the Dataverse client."""
        await self._client.aclose()

    async def _single(self, write: p.Write) -> Outcome:
        try:
            result = await self._client.upsert(
                write.entity_set,
                write.key,
                write.body,
                mode="upsert" if write.create else "update_only",
            )
        except ConnectorError as exc:
            return _failure(write, exc)
        target = str(result.entity_id) if result.entity_id else None
        return _success(write, target, 204)

    async def _batch(self, chunk: list[tuple[int, p.Write]]) -> list[Outcome]:
        parts = [_operation(self._client, write) for _, write in chunk]
        try:
            answer = await self._client.batch(parts, continue_on_error=True)
        except ConnectorError as exc:
            failure = from_connector(exc)
            return [failure for _ in chunk]
        if len(answer.responses) != len(chunk):
            failure = CommandFailedError(
                f"$batch answered {len(answer.responses)} parts for {len(chunk)} requests",
                failure=FailureClass.UNAVAILABLE,
            )
            return [failure for _ in chunk]
        return [_part_outcome(w, r) for (_, w), r in zip(chunk, answer.responses, strict=True)]


def _write(command: Command) -> p.Write | CommandFailedError:
    builder = p.BUILDERS.get(command.entity)
    if builder is None:
        return CommandFailedError(
            f"no Dataverse handler for {command.entity}", failure=FailureClass.VALIDATION
        )
    try:
        return builder(command.value)
    except (KeyError, ValueError) as exc:
        return CommandFailedError(f"command lacks {exc}", failure=FailureClass.VALIDATION)


def _operation(client: DataverseClient, write: p.Write) -> BatchOperation:
    headers = {} if write.create else {"If-Match": "*"}
    url = client.entity_path(f"{write.entity_set}{key_segment(write.key)}")
    return BatchOperation(method="PATCH", url=url, body=write.body, headers=headers)


def _part_outcome(write: p.Write, response: PartResponse) -> Outcome:
    if response.status >= 400:  # noqa: PLR2004 - error statuses
        return _failure(write, part_error(response))
    entity_url = response.headers.get("odata-entityid", "")
    target = entity_url.rsplit("(", 1)[-1].rstrip(")") if entity_url else None
    return _success(write, target, response.status)


def _failure(write: p.Write, error: ConnectorError) -> CommandFailedError:
    """An update of a row that is not there yet waits for it (a stock count racing its product,
    a write-back racing its order); everything else is classified as the connector says."""
    if not write.create and isinstance(error, NotFoundError):
        return DependencyMissingError(
            f"{write.entity_set} {key_segment(write.key)} is not in Dataverse yet "
            f"({error.message or error})"
        )
    return from_connector(error)


def _nothing_to_write(write: p.Write) -> Success:
    return Success(
        status=ResultStatus.DUPLICATE,
        target_id=str(write.key) if isinstance(write.key, str) else None,
        message="no field to write: the change touches only fields Dataverse owns",
    )


def _success(write: p.Write, target: str | None, status: int) -> Success:
    return Success(
        status=ResultStatus.SUCCEEDED,
        target_id=target,
        target_ids={write.entity_set: target} if target else {},
        state_key=write.state_key,
        state_fields=p.state_fields(write),
        http_status=status,
    )
