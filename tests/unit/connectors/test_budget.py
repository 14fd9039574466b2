"""Governor maths: token bucket window bound, execution window, AIMD, Retry-After pauses."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.connectors.budget import (
    AimdLimit,
    BudgetLimits,
    ExecutionWindow,
    LimitHint,
    TokenBucket,
)
from isthmus.connectors.governor import ApiGovernor

pytestmark = pytest.mark.unit


@given(
    limit=st.integers(min_value=2, max_value=6000),
    window=st.floats(min_value=1.0, max_value=300.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=300),
)
def test_bucket_never_grants_more_than_the_limit_in_any_window(
    limit: int, window: float, gaps: list[float]
) -> None:
    bucket = TokenBucket.for_window(limit=limit, window=window, burst=None, now=0.0)
    now, starts = 0.0, []
    for gap in gaps:
        now += gap
        starts.append(now + bucket.take(now=now))
    starts.sort()
    for i, start in enumerate(starts):
        inside = [s for s in starts[i:] if s < start + window - 1e-9]
        assert len(inside) <= limit


def test_bucket_waits_once_empty() -> None:
    bucket = TokenBucket(capacity=2, rate=1.0, now=0.0)
    assert bucket.take(now=0.0) == 0.0
    assert bucket.take(now=0.0) == 0.0
    assert bucket.take(now=0.0) == pytest.approx(1.0)
    assert bucket.take(now=0.0) == pytest.approx(2.0)


def test_execution_window_waits_for_the_oldest_to_leave() -> None:
    window = ExecutionWindow(window=10.0, budget=3.0)
    window.add(ended=1.0, duration=2.0)
    window.add(ended=2.0, duration=2.0)
    assert window.wait(now=2.0) == pytest.approx(9.0)
    assert window.wait(now=11.0) == 0.0


def test_aimd_halves_once_per_episode_and_grows_additively() -> None:
    limit = AimdLimit(minimum=1, maximum=52, value=40.0)
    assert limit.on_throttle(request_started=0.0, now=1.0)
    assert limit.current == 20
    assert not limit.on_throttle(request_started=0.5, now=1.1)  # was in flight at the cut
    assert limit.current == 20
    for _ in range(21):
        limit.on_success()
    assert limit.current == 21


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_throttle_pauses_every_caller_for_retry_after() -> None:
    fake = FakeTime()
    limits = BudgetLimits(requests_per_window=None, execution_seconds_per_window=None)
    governor = ApiGovernor(credential="c", limits=limits, clock=fake.clock, sleep=fake.sleep)
    async with governor.permit() as permit:
        permit.record_throttled(retry_after=7.0)
    assert governor.stats.throttled == 1
    assert governor.limit.current == 24  # 52 less 5% headroom is 49, halved
    async with governor.permit() as permit:
        permit.record_success()
    assert fake.now >= 7.0


@pytest.mark.anyio
async def test_concurrency_never_exceeds_the_limit() -> None:
    limits = BudgetLimits(
        requests_per_window=None, execution_seconds_per_window=None, max_concurrency=3, headroom=1
    )
    governor = ApiGovernor(credential="c", limits=limits)

    async def one() -> None:
        async with governor.permit() as permit:
            await asyncio.sleep(0)
            permit.record_success()

    await asyncio.gather(*(one() for _ in range(50)))
    assert governor.stats.max_in_flight == 3
    assert governor.in_flight == 0


@pytest.mark.anyio
async def test_bucket_spaces_requests_at_the_configured_rate() -> None:
    fake = FakeTime()
    limits = BudgetLimits(
        requests_per_window=100,
        window_seconds=10,
        execution_seconds_per_window=None,
        headroom=1.0,
        burst=10,
    )
    governor = ApiGovernor(credential="c", limits=limits, clock=fake.clock, sleep=fake.sleep)
    for _ in range(100):
        async with governor.permit() as permit:
            permit.record_success()
    assert fake.now == pytest.approx(10.0)  # 10 at once, then 90 at 9/s


def test_learned_limit_replaces_a_looser_bucket() -> None:
    fake = FakeTime()
    governor = ApiGovernor(
        credential="c", limits=BudgetLimits(), clock=fake.clock, sleep=fake.sleep
    )
    governor.learn(LimitHint(requests=150, window_seconds=3.0, concurrency=8), now=0.0)
    assert governor.limit.current == 8
    bucket = governor._bucket
    assert bucket is not None
    assert bucket.capacity + bucket.rate * 3.0 <= 150
