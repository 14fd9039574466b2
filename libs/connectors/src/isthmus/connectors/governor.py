"""API-budget governor: one per credential, shared by every caller in the process.

A request asks the governor for a permit before it is sent and reports its outcome afterwards.
The permit is granted when (1) no throttling pause is running (a 429's ``Retry-After``), (2) fewer
requests than the adaptive limit are in flight, (3) the token bucket has a token for the
request-count window and (4) the execution-time window has room. A 429 halves the limit (once per
episode) and pauses every caller of the credential until the server's ``Retry-After`` has passed,
so the next request of that credential is not answered with another 429.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from isthmus.connectors.budget import (
    AimdLimit,
    BudgetLimits,
    ExecutionWindow,
    LimitHint,
    TokenBucket,
)
from isthmus.connectors.metrics import GOVERNOR_METRICS

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class Permit:
    """Leave to send one request; report its outcome with one of the ``record_*`` methods."""

    started: float
    outcome: str = "error"
    retry_after: float | None = None
    hint: LimitHint | None = None

    def record_success(self) -> None:
        """The server answered without throttling (any status but 429)."""
        self.outcome = "ok"

    def record_throttled(self, *, retry_after: float | None, hint: LimitHint | None = None) -> None:
        """The server answered 429, optionally with ``Retry-After`` and the limit it enforces."""
        self.outcome = "throttled"
        self.retry_after = retry_after
        self.hint = hint


@dataclass
class GovernorStats:
    """Counters kept for metrics, tests and the benchmark."""

    throttled: int = 0
    max_in_flight: int = 0
    granted: int = 0


class ApiGovernor:
    """Token bucket + adaptive concurrency (AIMD) + Retry-After pauses for one credential."""

    def __init__(
        self,
        *,
        credential: str,
        limits: BudgetLimits,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.credential = credential
        self.limits = limits
        self._clock = clock
        self._sleep = sleep
        now = clock()
        self._bucket = _bucket(limits, now)
        self._exec = _exec_window(limits)
        # Headroom applies to concurrency too: the server frees a slot only after it has sent the
        # answer, so a client that refills every slot at once races the server's own count.
        maximum = max(limits.min_concurrency, math.floor(limits.max_concurrency * limits.headroom))
        start = min(limits.initial_concurrency or maximum, maximum)
        self.limit = AimdLimit(minimum=limits.min_concurrency, maximum=maximum, value=float(start))
        self.in_flight = 0
        self.paused_until = float("-inf")
        self.stats = GovernorStats()
        self._unexplained_throttles = 0
        self._changed = asyncio.Condition()
        GOVERNOR_METRICS.watch(self)

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[Permit]:
        """Wait for leave to send one request; the block reports the outcome on the permit."""
        await self._enter()
        permit = Permit(started=self._clock())
        try:
            yield permit
        finally:
            await self._leave(permit)

    async def _enter(self) -> None:
        while True:
            await self._wait_for_pause_and_window()
            async with self._changed:
                while self.in_flight >= self.limit.current:
                    await self._changed.wait()
                if self._clock() < self.paused_until:
                    continue
                self.in_flight += 1
                self.stats.max_in_flight = max(self.stats.max_in_flight, self.in_flight)
            delay = self._bucket.take(now=self._clock()) if self._bucket else 0.0
            if delay > 0:
                await self._sleep(delay)
            if self._clock() >= self.paused_until:
                self.stats.granted += 1
                return
            await self._release_slot()

    async def _wait_for_pause_and_window(self) -> None:
        while True:
            now = self._clock()
            wait = self.paused_until - now
            if self._exec is not None:
                wait = max(wait, self._exec.wait(now=now))
            if wait <= 0:
                return
            await self._sleep(wait)

    async def _leave(self, permit: Permit) -> None:
        now = self._clock()
        if self._exec is not None:
            self._exec.add(ended=now, duration=now - permit.started)
        if permit.outcome == "ok":
            self._unexplained_throttles = 0
            self.limit.on_success()
        elif permit.outcome == "throttled":
            self._on_throttled(permit, now)
        await self._release_slot()

    def _on_throttled(self, permit: Permit, now: float) -> None:
        self.stats.throttled += 1
        GOVERNOR_METRICS.throttled(self.credential)
        self.limit.on_throttle(request_started=permit.started, now=now)
        if permit.hint is not None:
            self.learn(permit.hint, now=now)
        if permit.retry_after is not None:
            pause = permit.retry_after
        else:
            self._unexplained_throttles += 1
            pause = self.limits.throttle_backoff_seconds * 2 ** min(self._unexplained_throttles, 6)
        self.paused_until = max(self.paused_until, now + pause)

    def learn(self, hint: LimitHint, *, now: float) -> None:
        """Adopt a limit the server named, where it is tighter than the configured one.

        From then on the bucket, execution window or concurrency cap keeps below it, so the
        governor settles at the server's limit instead of bursting into it after every pause.
        """
        limits = self.limits
        window = hint.window_seconds or limits.window_seconds
        if hint.requests is not None:
            cap = max(1, math.floor(hint.requests * limits.headroom))
            current = self._bucket
            if current is None or cap < current.capacity + current.rate * window:
                self._bucket = TokenBucket.for_window(limit=cap, window=window, burst=1, now=now)
        if hint.execution_seconds is not None:
            budget = hint.execution_seconds * limits.headroom
            if self._exec is None or budget < self._exec.budget:
                self._exec = ExecutionWindow(window=window, budget=budget)
        if hint.concurrency is not None and hint.concurrency < self.limit.maximum:
            self.limit.maximum = max(self.limit.minimum, hint.concurrency)
            self.limit.value = min(self.limit.value, float(self.limit.maximum))

    async def _release_slot(self) -> None:
        async with self._changed:
            self.in_flight -= 1
            self._changed.notify_all()


def _bucket(limits: BudgetLimits, now: float) -> TokenBucket | None:
    if limits.requests_per_window is None:
        return None
    cap = max(1, math.floor(limits.requests_per_window * limits.headroom))
    return TokenBucket.for_window(
        limit=cap, window=limits.window_seconds, burst=limits.burst, now=now
    )


def _exec_window(limits: BudgetLimits) -> ExecutionWindow | None:
    if limits.execution_seconds_per_window is None:
        return None
    budget = limits.execution_seconds_per_window * limits.headroom
    return ExecutionWindow(window=limits.window_seconds, budget=budget)


_GOVERNORS: dict[str, ApiGovernor] = {}


def governor_for(*, credential: str, limits: BudgetLimits) -> ApiGovernor:
    """The process-wide governor of ``credential``, created with ``limits`` on first use.

    Args:
        credential: a stable, non-secret name of the credential (client id, user name).
        limits: the limits to apply when this call creates the governor.

    Returns:
        The same governor for every caller that names the same credential.
    """
    governor = _GOVERNORS.get(credential)
    if governor is None:
        governor = ApiGovernor(credential=credential, limits=limits)
        _GOVERNORS[credential] = governor
    return governor
