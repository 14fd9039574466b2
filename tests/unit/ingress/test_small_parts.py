"""De-duplication window, per-source rate limit, echo fingerprints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from isthmus.ingress.core.dedup import DedupWindow
from isthmus.ingress.core.echo import LastWrites, normalise
from isthmus.ingress.core.ratelimit import RateLimiter

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_dedup_remembers_within_the_window_only() -> None:
    clock = Clock()
    window = DedupWindow(window_s=60, clock=clock)
    window.remember("a")
    window.remember("old", age_s=59)
    assert window.seen("a") and window.seen("old")
    clock.now += 2
    assert window.seen("a") and not window.seen("old")
    clock.now += 60
    assert not window.seen("a") and len(window) == 0


def test_rate_limit_allows_the_burst_then_asks_to_wait_per_source() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=3, clock=clock)
    assert [limiter.take("d365:1") for _ in range(4)] == [0, 0, 0, 1]
    assert limiter.take("sap:1") == 0
    clock.now += 1
    assert limiter.take("d365:1") == 0


def test_echo_needs_the_integration_user_and_the_same_content() -> None:
    writes = LastWrites()
    writes.record(system="D365", key="k", fields={"name": "Acme", "credit": "10.5"})
    same = {"name": "Acme", "credit": 10.50, "other": "ignored"}

    def echo(user: str, data: dict[str, object]) -> bool:
        return writes.is_echo(
            system="D365", key="k", origin_user=user, integration_user="U", data=data
        )

    assert echo("u", same)
    assert not echo("someone", same)
    assert not echo("U", {**same, "name": "Acme Corp"})
    assert not writes.is_echo(
        system="D365", key="other", origin_user="U", integration_user="U", data=same
    )


def test_normalised_forms() -> None:
    assert normalise(Decimal("10.5000")) == "10.5"
    assert normalise(3) == "3"
    assert normalise(True) == "true"
    assert normalise(dt.date(2026, 1, 2)) == "2026-01-02"
    assert normalise(None) is None
