"""Read the full record behind a thin event, coalescing bursts for the same key.

Events for one key that arrive while a read is still gathering share that read; an event that
arrives after the read was sent waits for a new one, so no event is answered with data older
than itself.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.errors import ConnectorError, NotFoundError
from isthmus.connectors.s4.client import S4Client
from isthmus.ingress.adapters.stock import STOCK_SET, read_plant_stock
from isthmus.ingress.core.events import Hydration, iso_millis
from isthmus.ingress.errors import MalformedError, UnavailableError
from isthmus.schemas import odata_date

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hydrated:
    """The record read, with the version that was read (None: the record does not exist)."""

    data: dict[str, Any] | None
    version: str | None = None


class RecordReader(Protocol):
    """Reads one record by its hydration request."""

    def reads(self, system: str) -> bool:
        """True when records of ``system`` can be read."""
        ...

    async def __call__(self, request: Hydration, /) -> Hydrated: ...


class ConnectorReader:
    """Reads Dataverse rows and S/4 entities through the connectors."""

    def __init__(self, *, d365: DataverseClient | None, s4: S4Client | None) -> None:
        self._d365 = d365
        self._s4 = s4
        self.fetches = 0

    def reads(self, system: str) -> bool:
        """True when a client for ``system`` is configured."""
        return (self._s4 if system == "s4" else self._d365) is not None

    async def __call__(self, request: Hydration, /) -> Hydrated:
        """Read the record.

        Raises:
            MalformedError: the source answered that this key can never be read (a 400).
            UnavailableError: the source could not be read (the caller answers 503).
        """
        self.fetches += 1
        try:
            if request.system == "s4" and self._s4 is not None:
                return await self._read_s4(request)
            if request.system == "d365" and self._d365 is not None:
                return await self._read_d365(request)
        except NotFoundError:
            return Hydrated(data=None)
        except ConnectorError as exc:
            if exc.kind == "invalid":  # the source refuses this key for good: no retry helps
                raise MalformedError(
                    f"{request.system} refused to read {request.collection} {request.key!r}: {exc}"
                ) from exc
            raise UnavailableError(f"{request.system} could not be read: {exc}") from exc
        return Hydrated(data=None)

    async def _read_s4(self, request: Hydration) -> Hydrated:
        assert self._s4 is not None  # noqa: S101 - checked by the caller
        if request.collection == STOCK_SET:  # no entity per event key: rows summed
            return Hydrated(data=await read_plant_stock(self._s4, key=request.key))
        entity = await self._s4.read(
            request.service, request.collection, request.key, expand=request.expand or None
        )
        changed = entity.data.get("LastChangeDateTime")
        moment = odata_date.parse_datetime(changed) if isinstance(changed, str) else None
        if moment is not None:
            changed = iso_millis(moment)
        version = changed or entity.etag
        return Hydrated(data=entity.data, version=None if version is None else str(version))

    async def _read_d365(self, request: Hydration) -> Hydrated:
        assert self._d365 is not None  # noqa: S101 - checked by the caller
        expand = ",".join(request.expand) or None
        row = await self._d365.retrieve(request.collection, request.key, expand=expand)
        version = row.data.get("versionnumber") or row.etag
        data = flatten_lookups(row.data)
        return Hydrated(data=data, version=None if version is None else str(version))


# (expanded navigation, its column) -> the flat column of the event schemas
_FLAT_LOOKUPS = {
    ("transactioncurrencyid", "isocurrencycode"): "isocurrencycode",
    ("customerid_account", "accountnumber"): "customeraccountnumber",
    ("productid", "productnumber"): "productnumber",
    ("uomid", "name"): "uomname",
}


def flatten_lookups(row: dict[str, Any]) -> dict[str, Any]:
    """Copy expanded lookup columns to the flat names the events use (lines too)."""
    flat = dict(row)
    for (nav, column), target in _FLAT_LOOKUPS.items():
        related = row.get(nav)
        if isinstance(related, dict) and flat.get(target) is None:
            flat[target] = related.get(column)
    for name, value in row.items():
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            flat[name] = [flatten_lookups(item) for item in value]
    return flat


class CoalescingHydrator:
    """One read per key per gathering window, shared by every event waiting for it."""

    def __init__(self, *, reader: RecordReader, windows_s: dict[str, float]) -> None:
        self._reader = reader
        self._windows_s = windows_s
        self._gathering: dict[Hydration, asyncio.Future[Hydrated]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def reads(self, system: str) -> bool:
        """True when records of ``system`` are read (else events keep the pushed fields)."""
        return self._reader.reads(system)

    async def hydrate(self, request: Hydration) -> Hydrated:
        """The record for ``request``, read at or after the moment of this call.

        Raises:
            UnavailableError: the source could not be read.
        """
        if not self._reader.reads(request.system):
            return Hydrated(data=None)
        future = self._gathering.get(request)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._gathering[request] = future
            task = asyncio.create_task(self._read(request, future))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(future)

    async def _read(self, request: Hydration, future: asyncio.Future[Hydrated]) -> None:
        await asyncio.sleep(self._windows_s.get(request.system, 0.0))
        self._gathering.pop(request, None)
        try:
            future.set_result(await self._reader(request))
        except Exception as exc:
            future.set_exception(exc)
