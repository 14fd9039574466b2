"""The latency bench's users: orders created open loop, the human steps done as effects appear."""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path
from typing import Any

import httpx

from isthmus.devenv.demo_systems import (
    API,
    CLERK_CLIENT_ID,
    CLERK_SECRET,
    Catalogue,
    fulfil_body,
    order_body,
)
from isthmus.devenv.system import D365_ORG_URL, D365_TENANT_ID, S4_PASSWORD, S4_USER
from tests.bench.latency.figures import Due, Ledger, Step, effect_of

logger = logging.getLogger(__name__)
PRODUCTS = ("TG11", "TG12")
_BILLING_TRIES = 20


class Rig:
    """Creates orders in sandbox-d365 over its Web API and does the demo's human steps, each
    as soon as the audit shows its cause; every order is noted in the ledger under a phase."""

    def __init__(
        self, *, d365_url: str, s4_url: str, ca_file: Path, catalogue: Catalogue,
        accounts: list[str],
    ) -> None:  # fmt: skip
        verify = ssl.create_default_context(cafile=str(ca_file))
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self._d365 = httpx.AsyncClient(base_url=d365_url, verify=verify, timeout=120, limits=limits)
        self._s4 = httpx.AsyncClient(
            base_url=s4_url, verify=verify, timeout=120, limits=limits, auth=(S4_USER, S4_PASSWORD)
        )
        self._catalogue = catalogue
        self._accounts = accounts
        self._headers: dict[str, str] = {}
        self.ledger = Ledger()
        self.phase_of: dict[str, str] = {}
        self.failures: list[str] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._created = 0

    async def sign_in(self) -> None:
        """A token for the clerk's app (DemoDriver.set_up registered it)."""
        answer = await self._d365.post(
            f"/{D365_TENANT_ID}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials", "client_id": CLERK_CLIENT_ID,
                "client_secret": CLERK_SECRET, "scope": f"{D365_ORG_URL}/.default",
            },
        )  # fmt: skip
        answer.raise_for_status()
        self._headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self._d365.aclose()
        await self._s4.aclose()

    def spawn(self, work: Any) -> None:
        """Run ``work`` as a task of its own (a slow answer never delays the next one)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def create_order(self, *, phase: str, intended: float) -> None:
        """One D365 sales order; ``intended`` is its arrival time on the schedule."""
        index = self._created
        self._created += 1
        lines = [(PRODUCTS[index % 2], 1 + index % 3), (PRODUCTS[(index + 1) % 2], 1)]
        body = order_body(
            account_id=self._accounts[index % len(self._accounts)],
            catalogue=self._catalogue,
            lines=lines,
        )
        try:
            answer = await self._d365.post(
                f"{API}/salesorders", json=body,
                headers={**self._headers, "Prefer": "return=representation"},
            )  # fmt: skip
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            self.failures.append(f"create: {exc!r}")
            return
        order_id = answer.json()["salesorderid"]
        self.phase_of[order_id] = phase
        self._do(self.ledger.add(order_id=order_id, intended=intended))

    def on_audit(self, event: dict[str, Any]) -> None:
        """One decoded audit event (called on the loop's thread)."""
        effect = effect_of(event)
        if effect is not None:
            self._do(self.ledger.observe(effect))

    def _do(self, dues: list[Due]) -> None:
        for due in dues:
            self.ledger.sent(due, at=time.time())
            self.spawn(self._step(due))

    async def _step(self, due: Due) -> None:
        try:
            if due.step is Step.FULFIL:
                await self._fulfil(due.subject)
            elif due.step is Step.BILLING_RUN:
                await self._billing_run(due)
            else:
                await self._mark_paid(due.subject)
        except httpx.HTTPError as exc:
            self.failures.append(f"{due.step.value}: {exc!r}")

    async def _fulfil(self, order_id: str) -> None:
        (
            await self._d365.post(
                f"{API}/FulfillSalesOrder", headers=self._headers, json=fulfil_body(order_id)
            )
        ).raise_for_status()

    async def _billing_run(self, due: Due) -> None:
        for _ in range(_BILLING_TRIES):  # goods issue is posted with the delivery; rarely late
            answer = await self._s4.post(
                "/_sandbox/billing-run", json={"deliveries": [due.subject]}
            )
            answer.raise_for_status()
            billed = [str(n) for n in answer.json().get("billing_documents", [])]
            if billed:
                self._do(self.ledger.billed(due.journey, billing=billed[0]))
                return
            await asyncio.sleep(0.2)
        self.failures.append(f"billing run: nothing billed for delivery {due.subject}")

    async def _mark_paid(self, invoice_id: str) -> None:
        (
            await self._d365.patch(
                f"{API}/invoices({invoice_id})",
                json={"statecode": 2, "statuscode": 100001},
                headers={**self._headers, "If-Match": "*"},
            )
        ).raise_for_status()

    def journeys(self, phase: str) -> list[Any]:
        return [j for j in self.ledger.journeys.values() if self.phase_of.get(j.order_id) == phase]


async def open_loop(rig: Rig, *, phase: str, t0: float, offsets: list[float]) -> None:
    """Create one order at each intended time ``t0 + offset``; never waits for an answer."""
    for offset in offsets:
        intended = t0 + offset
        delay = intended - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        rig.spawn(rig.create_order(phase=phase, intended=intended))


async def burst(rig: Rig, *, phase: str, orders: int, in_flight: int) -> None:
    """Create ``orders`` as fast as the sandbox answers, ``in_flight`` at a time (closed loop)."""
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate:
            await rig.create_order(phase=phase, intended=time.time())

    await asyncio.gather(*(one() for _ in range(orders)))
