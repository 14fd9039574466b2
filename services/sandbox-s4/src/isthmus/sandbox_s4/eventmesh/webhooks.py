"""Webhook subscriptions: OPTIONS handshake, authenticated push from a queue, retries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from typing import Any

import httpx

from isthmus.sandbox_s4.eventmesh.events import EventBus
from isthmus.sandbox_s4.store import Store

SUBSCRIPTION = "subscription"  # document kind
_log = logging.getLogger(__name__)
_SUCCESS = range(200, 300)


class WebhookPusher:
    """Pushes queued messages to each active webhook subscription, oldest first."""

    def __init__(
        self,
        *,
        store: Store,
        bus: EventBus,
        origin: str,
        client: httpx.AsyncClient,
        retry_base_s: float = 0.5,
        retry_max_s: float = 30.0,
    ) -> None:
        self.store = store
        self.origin = origin
        self.client = client
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.deliveries: deque[dict[str, Any]] = deque(maxlen=2000)
        self._wake = asyncio.Event()
        self._not_before: dict[str, float] = {}
        self._attempts: dict[int, int] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        self._task: asyncio.Task[None] | None = None
        bus.on_message(self._wake.set)

    def start(self) -> None:
        """Start the push loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the push loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def reset(self) -> None:
        """Forget delivery history and back-off state."""
        self.deliveries.clear()
        self._not_before.clear()
        self._attempts.clear()
        self._tokens.clear()

    async def handshake(self, *, name: str) -> dict[str, Any]:
        """Send the CloudEvents webhook validation request and record the outcome."""
        subscription = self.store.documents(kind=SUBSCRIPTION)[name]
        endpoint = subscription["pushConfig"]["endpoint"]
        status = "FAILED"
        try:
            response = await self.client.request(
                "OPTIONS", endpoint, headers={"WebHook-Request-Origin": self.origin}
            )
            allowed = response.headers.get("WebHook-Allowed-Origin", "")
            if response.status_code in _SUCCESS and allowed in {"*", self.origin}:
                status = "SUCCESS"
        except httpx.HTTPError as exc:
            _log.info("handshake with %s failed: %s", endpoint, exc)
        subscription["handshakeStatus"] = status
        subscription["subscriptionState"] = "ACTIVE" if status == "SUCCESS" else "PAUSED"
        self.store.put_document(kind=SUBSCRIPTION, name=name, data=subscription)
        self._wake.set()
        return subscription

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.25)
            self._wake.clear()
            for name, subscription in self.store.documents(kind=SUBSCRIPTION).items():
                if subscription.get("subscriptionState") == "ACTIVE":
                    await self._drain(name, subscription)

    async def _drain(self, name: str, subscription: dict[str, Any]) -> None:
        if time.monotonic() < self._not_before.get(name, 0.0):
            return
        queue = subscription["address"].removeprefix("queue:")
        while (message := self.store.dequeue(queue=queue, lock=True)) is not None:
            message_id, data, content_type = message
            attempt = self._attempts.get(message_id, 0) + 1
            self._attempts[message_id] = attempt
            status, retry_after = await self._post(subscription, data, content_type)
            self.deliveries.append(
                {
                    "subscription": name,
                    "message_id": message_id,
                    "attempt": attempt,
                    "status": status,
                    "at": time.time(),
                }
            )
            if status in _SUCCESS or int(subscription.get("qos", 0)) == 0:
                self.store.acknowledge(queue=queue, message_id=message_id)
                self._attempts.pop(message_id, None)
                continue
            self.store.release(message_id=message_id)
            backoff = min(self.retry_base_s * 2 ** (attempt - 1), self.retry_max_s)
            self._not_before[name] = time.monotonic() + (retry_after or backoff)
            return

    async def _post(
        self, subscription: dict[str, Any], data: str, content_type: str
    ) -> tuple[int, float | None]:
        push = subscription["pushConfig"]
        try:
            headers = {"Content-Type": content_type, **await self._auth(push)}
            response = await self.client.post(push["endpoint"], content=data, headers=headers)
        except httpx.HTTPError as exc:
            _log.info("push to %s failed: %s", push["endpoint"], exc)
            return 0, None
        retry_after = response.headers.get("Retry-After", "")
        return response.status_code, float(retry_after) if retry_after.isdigit() else None

    async def _auth(self, push: dict[str, Any]) -> dict[str, str]:
        schema = push.get("securitySchema") or {}
        kind = str(schema.get("type", "")).lower()
        if kind == "basic":
            credentials = httpx.BasicAuth(schema.get("user", ""), schema.get("password", ""))
            return {"Authorization": credentials._auth_header}
        if kind == "oauth2":
            return {"Authorization": f"Bearer {await self._token(schema)}"}
        return {}

    async def _token(self, schema: dict[str, Any]) -> str:
        url = schema["tokenUrl"]
        cached = self._tokens.get(url)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        response = await self.client.post(
            url,
            data={"grant_type": "client_credentials"},
            auth=(schema.get("clientId", ""), schema.get("clientSecret", "")),
        )
        response.raise_for_status()
        body = response.json()
        expires = float(body.get("expires_in", 300))
        self._tokens[url] = (body["access_token"], time.monotonic() + expires * 0.9)
        return str(body["access_token"])
