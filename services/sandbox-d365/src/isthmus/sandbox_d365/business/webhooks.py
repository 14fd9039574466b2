"""Webhook steps: match committed writes to registered steps and POST the execution context."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import uuid
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any
from urllib.parse import urlencode

import httpx

from isthmus.sandbox_d365.business.execution_context import build_context
from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.business.rows import WriteEvent, now_iso
from isthmus.sandbox_d365.odata.refs import KeyRef

logger = logging.getLogger(__name__)
RETRIED = (502, 503, 504)
MAX_PAYLOAD = 256 * 1024
_SETTING = re.compile(r'<setting\s+name="([^"]*)"\s+value="([^"]*)"\s*/>')
AUTH_WEBHOOK_KEY, AUTH_HEADER, AUTH_QUERY = 4, 5, 6


@dataclass
class Delivery:
    """One webhook delivery (with its retry) as the admin API shows it."""

    id: str
    time: str
    step_id: str
    url: str
    message: str
    entity: str
    row_id: str
    correlation_id: str
    attempts: int
    status: int | None
    error: str | None
    succeeded: bool
    redelivery_of: str | None = None


@dataclass(frozen=True)
class _Sent:
    """The request of one delivery, kept so that it can be sent again as it was."""

    url: str
    headers: dict[str, str]
    body: bytes


def encode_context(context: dict[str, Any], *, limit: int = MAX_PAYLOAD) -> tuple[bytes, bool]:
    """The JSON body; above ``limit`` bytes without ParentContext, Target and images (and True)."""
    body = json.dumps(context).encode()
    if len(body) <= limit:
        return body, False
    trimmed = {**context, "ParentContext": None, "InputParameters": []}
    trimmed.update(PreEntityImages=[], PostEntityImages=[])
    return json.dumps(trimmed).encode(), True


def auth_pairs(value: str) -> dict[str, str]:
    """``<settings><setting name="k" value="v"/></settings>`` → ``{"k": "v"}``."""
    return dict(_SETTING.findall(value or ""))


class WebhookDispatcher:
    """Finds the steps an event triggers and delivers to their service endpoints."""

    def __init__(
        self,
        *,
        records: Records,
        org: dict[str, str],
        timeout_s: float,
        verify: Any,
        lock: asyncio.Lock,
    ) -> None:
        self._records = records
        self._org = org
        self._timeout = timeout_s
        self._verify = verify
        self._lock = lock
        self.deliveries: deque[Delivery] = deque(maxlen=10_000)  # newest last, bounded
        self._sent: dict[str, _Sent] = {}  # by delivery id, as bounded as the deliveries
        self._tasks: set[asyncio.Task[None]] = set()

    def _steps(self, event: WriteEvent) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        store = self._records.store
        found = []
        for step in store.all("sdkmessageprocessingstep"):
            message = store.peek("sdkmessage", step.get("_sdkmessageid_value") or "")
            if (
                step.get("statecode") != 0
                or message is None
                or message.get("name") != event.message
            ):
                continue
            flt = store.peek("sdkmessagefilter", step.get("_sdkmessagefilterid_value") or "")
            if flt is not None and flt.get("primaryobjecttypecode") != event.table.logical:
                continue
            if event.message == "Update" and not _attributes_match(step, event):
                continue
            endpoint = store.peek("serviceendpoint", step.get("_eventhandler_value") or "")
            if endpoint is not None and endpoint.get("contract") == 8:  # noqa: PLR2004 - Webhook
                found.append((step, endpoint))
        return found

    async def deliver_sync(self, events: list[WriteEvent]) -> Delivery | None:
        """Call the synchronous steps of ``events`` now; the first failed delivery, if any."""
        for event in events:
            for step, endpoint in self._steps(event):
                if step.get("mode") == 0:
                    delivery = await self._deliver(event, step, endpoint)
                    if not delivery.succeeded:
                        return delivery
        return None

    def dispatch_async(self, events: list[WriteEvent]) -> None:
        """Start the asynchronous steps of committed ``events`` in the background."""
        for event in events:
            for step, endpoint in self._steps(event):
                if step.get("mode") != 0:
                    task = asyncio.create_task(self._deliver_async(event, step, endpoint))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)

    async def _deliver_async(
        self, event: WriteEvent, step: dict[str, Any], endpoint: dict[str, Any]
    ) -> None:
        delivery = await self._deliver(event, step, endpoint)
        if not delivery.succeeded:
            async with self._lock:  # writes the system job between requests, never inside one
                self._record_failure(delivery)

    async def _deliver(
        self, event: WriteEvent, step: dict[str, Any], endpoint: dict[str, Any]
    ) -> Delivery:
        mode = int(step.get("mode") or 0)
        context = build_context(
            event,
            step_id=step["sdkmessageprocessingstepid"],
            step_name=step.get("name") or "",
            mode=mode,
            org=self._org,
            images=step.get("isthmus_images") or "",
        )
        context["ParentContext"] = {
            **context,
            "ParentContext": None,
            "Stage": 30,
            "PostEntityImages": [],
            "PreEntityImages": [],
        }
        headers = self._headers(event, context)
        body, oversized = encode_context(context)
        if oversized:
            headers["x-ms-dynamics-msg-size-exceeded"] = "true"
        url = self._url(endpoint, headers)
        status, error, attempts = await self._post(url, headers, body)
        delivery = Delivery(
            id=str(uuid.uuid4()),
            time=now_iso(),
            step_id=step["sdkmessageprocessingstepid"],
            url=endpoint.get("url") or "",
            message=event.message,
            entity=event.table.logical,
            row_id=event.row_id,
            correlation_id=context["CorrelationId"],
            attempts=attempts,
            status=status,
            error=error,
            succeeded=error is None,
        )
        self._keep(delivery, _Sent(url=url, headers=headers, body=body))
        return delivery

    async def redeliver(self, delivery_id: str) -> Delivery:
        """Send the request of an earlier delivery again, byte for byte (a new
        ``x-request-id``), as Dataverse does when it retries a call it believes failed.

        Raises:
            KeyError: no kept delivery has that id.
        """
        sent = self._sent[delivery_id]
        first = next(d for d in self.deliveries if d.id == delivery_id)
        headers = {**sent.headers, "x-request-id": str(uuid.uuid4())}
        status, error, attempts = await self._post(sent.url, headers, sent.body)
        delivery = replace(
            first,
            id=str(uuid.uuid4()),
            time=now_iso(),
            attempts=attempts,
            status=status,
            error=error,
            succeeded=error is None,
            redelivery_of=delivery_id,
        )
        self._keep(delivery, sent)
        return delivery

    def _keep(self, delivery: Delivery, sent: _Sent) -> None:
        if len(self.deliveries) == self.deliveries.maxlen:
            self._sent.pop(self.deliveries[0].id, None)
        self.deliveries.append(delivery)
        self._sent[delivery.id] = sent

    def sent_body(self, delivery_id: str) -> Any:
        """The execution context a delivery posted, decoded (None once no longer kept)."""
        sent = self._sent.get(delivery_id)
        return None if sent is None else json.loads(sent.body)

    def clear(self) -> None:
        """Forget every delivery."""
        self.deliveries.clear()
        self._sent.clear()

    def _headers(self, event: WriteEvent, context: dict[str, Any]) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "x-ms-dynamics-organization": self._org["host"],
            "x-ms-dynamics-entity-name": event.table.logical,
            "x-ms-dynamics-request-name": event.message,
            "x-ms-correlation-request-id": context["CorrelationId"],
            "x-request-id": str(uuid.uuid4()),
        }

    def _url(self, endpoint: dict[str, Any], headers: dict[str, str]) -> str:
        url = str(endpoint.get("url") or "")
        auth_type, value = endpoint.get("authtype"), str(endpoint.get("authvalue") or "")
        joiner = "&" if "?" in url else "?"
        if auth_type == AUTH_WEBHOOK_KEY:
            return f"{url}{joiner}{urlencode({'code': value})}"
        if auth_type == AUTH_HEADER:
            headers.update(auth_pairs(value))
        if auth_type == AUTH_QUERY:
            return f"{url}{joiner}{urlencode(auth_pairs(value))}"
        return url

    async def _post(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int | None, str | None, int]:
        status: int | None = None
        error: str | None = None
        attempts = 0
        async with httpx.AsyncClient(timeout=self._timeout, verify=self._verify) as client:
            for attempt in (1, 2):
                attempts = attempt
                try:
                    response = await client.post(url, content=body, headers=headers)
                except httpx.HTTPError as exc:
                    status, error = None, f"{type(exc).__name__}: {exc}"
                    break
                status = response.status_code
                if 200 <= status < 300:  # noqa: PLR2004
                    return status, None, attempts
                error = f"HTTP {status}"
                if status not in RETRIED:
                    break
        return status, error, attempts

    def _record_failure(self, delivery: Delivery) -> None:
        jobs = self._records.catalogue.table("asyncoperation")
        body = {
            "name": f"Webhook delivery for {delivery.message} of {delivery.entity}",
            "operationtype": 1,
            "message": json.dumps(asdict(delivery)),
            "friendlymessage": f"The webhook call to {delivery.url} failed: {delivery.error}",
            "errorcode": -2147204719,
            "primaryentitytype": delivery.entity,
            "regardingobjectid": delivery.row_id,
            "completedon": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "owningextensionid@odata.bind": f"/sdkmessageprocessingsteps({delivery.step_id})",
        }
        try:
            job = self._records.create(jobs, body, user_id=self._org["system_user"])
            self._records.update(
                jobs,
                KeyRef(row_id=job["asyncoperationid"]),
                {"statuscode": 31},
                user_id=self._org["system_user"],
            )
        except Exception:  # the delivery record above still shows the failure
            logger.exception("could not record the failed webhook delivery as a system job")
        self._records.drain()


def _attributes_match(step: dict[str, Any], event: WriteEvent) -> bool:
    wanted = {a.strip() for a in str(step.get("filteringattributes") or "").split(",") if a.strip()}
    if not wanted:
        return True
    changed = {k[1:-6] if k.startswith("_") and k.endswith("_value") else k for k in event.target}
    return bool(wanted & changed)
