"""Scheduled pollers: Dataverse change tracking and S/4 ``LastChangeDateTime`` watermarks.

They produce the same events as the webhooks (same topics, schemas, hydration, echo check) with
poller-made event ids (``<system>:<set>:<key>:<version>``), so a change polled twice is a
duplicate. A change already produced by any channel at the same source version is skipped too.
A checkpoint is written to the compacted checkpoint topic only after the events of its page
were acknowledged: a crash re-polls at most one page (at-least-once, de-duplicated).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.odata import v2_literal
from isthmus.ingress.adapters.producer import OutRecord
from isthmus.ingress.core.events import Hydration, PendingEvent, envelope, iso_millis, now_iso
from isthmus.ingress.errors import IngressError
from isthmus.ingress.pipeline import Ingress
from isthmus.ingress.records import RequestContext
from isthmus.ingress.settings import IngressSettings
from isthmus.schemas import odata_date

logger = logging.getLogger(__name__)
CHECKPOINT_SCHEMA = "io.isthmus.common.Checkpoint"


class Pollers:
    """Runs every configured poller once per interval."""

    def __init__(
        self,
        *,
        settings: IngressSettings,
        ingress: Ingress,
        d365: DataverseClient | None,
        s4: S4Client | None,
        checkpoints: dict[str, dict[str, Any]],
    ) -> None:
        self._settings = settings
        self._ingress = ingress
        self._d365 = d365
        self._s4 = s4
        self.checkpoints = checkpoints

    async def run_forever(self) -> None:
        """Poll, sleep, repeat; a failed poller is logged and retried next round."""
        while True:
            await self.poll_once()
            await asyncio.sleep(self._settings.pollers.interval_s)

    async def poll_once(self) -> None:
        """One round of every poller."""
        pollers = self._settings.pollers
        for table in pollers.d365_tables if self._d365 else ():
            await self._guarded(self.poll_dataverse(table), f"d365:{table}")
        for kind in pollers.s4_objects if self._s4 else ():
            await self._guarded(self.poll_s4(kind), f"s4:{kind}")

    async def _guarded(self, work: Any, poller: str) -> None:
        try:
            await work
        except (IngressError, Exception):  # a poller must not stop the others
            logger.exception("poll failed; retried next round", extra={"poller": poller})

    async def poll_dataverse(self, table: str) -> None:
        """Read the changes since the stored delta link and produce them."""
        assert self._d365 is not None  # noqa: S101 - only scheduled with a client
        route = self._settings.dataverse.routes[table]
        poller_id = f"d365:{route.entity_set}"
        link = self.checkpoints.get(poller_id, {}).get("deltaLink")
        async for page in self._d365.iter_changes(route.entity_set, delta_link=link):
            events = [self._d365_event(table, row) for row in page.rows]
            events += [self._d365_deletion(table, str(row_id)) for row_id in page.deleted]
            await self._accept(events, "d365-poller")
            if page.delta_link:
                await self._save(poller_id, "D365", route.entity_set, deltaLink=page.delta_link)

    def _d365_event(self, table: str, row: dict[str, Any]) -> PendingEvent:
        route = self._settings.dataverse.routes[table]
        key = str(row[route.key]).lower()
        version = str(row.get("versionnumber") or row.get("@odata.etag") or "")
        created = row.get("createdon") is not None and row.get("createdon") == row.get("modifiedon")
        message = "Create" if created else "Update"
        return PendingEvent(
            topic=route.topic,
            schema_name=route.schema_name,
            key=key,
            envelope=envelope(
                event_id=f"d365:{route.entity_set}:{key}:{version}",
                occurred_at=str(row.get("modifiedon") or now_iso()),
                system="D365",
                operation="CREATED" if created else "UPDATED",
                message=message,
                origin_user=row.get("_modifiedby_value"),
                correlation_id=None,
                source_version=version or None,
            ),
            data=dict(row),
            ce_source=f"/dataverse/poller/{table}",
            ce_type=f"com.microsoft.dataverse.{table}.{message}",
            hydration=Hydration(
                "d365", route.entity_set, key, (route.expand,) if route.expand else ()
            ),
        )

    def _d365_deletion(self, table: str, row_id: str) -> PendingEvent:
        route = self._settings.dataverse.routes[table]
        return PendingEvent(
            topic=route.topic,
            schema_name=route.schema_name,
            key=row_id.lower(),
            envelope=envelope(
                event_id=f"d365:{route.entity_set}:{row_id.lower()}:deleted",
                occurred_at=now_iso(),
                system="D365",
                operation="DELETED",
                message="Delete",
                origin_user=None,
                correlation_id=None,
            ),
            data={route.key: row_id.lower()},
            ce_source=f"/dataverse/poller/{table}",
            ce_type=f"com.microsoft.dataverse.{table}.Delete",
        )

    async def poll_s4(self, kind: str) -> None:
        """Read entities changed since the stored watermark and produce them."""
        assert self._s4 is not None  # noqa: S101 - only scheduled with a client
        route = self._settings.sap.routes[kind]
        poller_id = f"s4:{route.entity_set}"
        mark = self.checkpoints.get(poller_id, {}).get("watermark")
        since = mark if isinstance(mark, dt.datetime) else None
        condition = None if since is None else f"LastChangeDateTime ge {v2_literal(since)}"
        async for page in self._s4.iter_pages(
            route.service,
            route.entity_set,
            filter=condition,
            expand=route.expand or None,
            orderby="LastChangeDateTime",
        ):
            events = [self._s4_event(kind, row) for row in page.rows]
            await self._accept(events, "s4-poller")
            stamps = [stamp for row in page.rows if (stamp := _changed_at(row)) is not None]
            newest = max(stamps, default=None)
            if newest is not None and (since is None or newest > since):
                since = newest
                last_key = str(page.rows[-1][route.key])
                await self._save(
                    poller_id, "S4", route.entity_set, watermark=since, lastKey=last_key
                )

    def _s4_event(self, kind: str, row: dict[str, Any]) -> PendingEvent:
        route = self._settings.sap.routes[kind]
        key = str(row[route.key])
        changed = _changed_at(row)
        version = iso_millis(changed) if changed else ""
        object_name = route.entity_set.removeprefix("A_")
        message = f"sap.s4.beh.{kind}.v1.{object_name}.Changed.v1"
        data = {k: v for k, v in row.items() if k != "__metadata"}
        return PendingEvent(
            topic=route.topic,
            schema_name=route.schema_name,
            key=key,
            envelope=envelope(
                event_id=f"s4:{route.entity_set}:{key}:{version}",
                occurred_at=version or now_iso(),
                system="S4",
                operation="UPDATED",
                message=message,
                origin_user=row.get("LastChangedByUser") or row.get("CreatedByUser"),
                correlation_id=None,
                source_version=row.get("LastChangeDateTime"),
            ),
            data=data,
            ce_source=f"/s4/poller/{kind}",
            ce_type=message,
        )

    async def _accept(self, events: list[PendingEvent], channel: str) -> None:
        fresh = [e for e in events if not self._ingress.produced_version(e)]
        if fresh:
            request = RequestContext(
                traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01",
                correlation_id=str(uuid.uuid4()),
                channel=channel,
            )
            await self._ingress.accept(fresh, request)

    async def _save(self, poller_id: str, system: str, entity: str, **values: Any) -> None:
        checkpoint = {
            "pollerId": poller_id,
            "system": system,
            "entity": entity,
            "deltaLink": values.get("deltaLink"),
            "watermark": values.get("watermark"),
            "lastKey": values.get("lastKey"),
            "updatedAt": dt.datetime.now(dt.UTC),
        }
        topic = self._settings.pollers.checkpoint_topic
        value = self._ingress.encode(topic=topic, schema_name=CHECKPOINT_SCHEMA, value=checkpoint)
        await self._ingress.producer.send([OutRecord(topic, poller_id.encode(), value, [])])
        self.checkpoints[poller_id] = checkpoint


def _changed_at(row: dict[str, Any]) -> dt.datetime | None:
    raw = row.get("LastChangeDateTime")
    if not isinstance(raw, str):
        return None
    moment = odata_date.parse_datetime(raw)
    if moment is not None:
        return moment
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
