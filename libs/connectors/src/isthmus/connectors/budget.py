"""The pure arithmetic of the API budget: token bucket, execution-time window and AIMD limit."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt


class BudgetLimits(BaseModel):
    """Service-protection limits of one credential; the defaults are Dataverse's documented ones.

    ``headroom`` keeps the governor below the limits instead of on them (request count, execution
    time and concurrency), so clock skew between the client and the server's sliding window, or
    a slot the server frees only after answering, does not produce a 429.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    requests_per_window: PositiveInt | None = Field(default=6000, description="None: no cap.")
    window_seconds: PositiveFloat = 300.0
    execution_seconds_per_window: PositiveFloat | None = Field(default=1200.0)
    max_concurrency: PositiveInt = 52
    min_concurrency: PositiveInt = 1
    initial_concurrency: PositiveInt | None = Field(default=None, description="None: max.")
    burst: PositiveInt | None = Field(default=None, description="Bucket size; None: 5% of cap.")
    headroom: float = Field(default=0.95, gt=0.0, le=1.0)
    throttle_backoff_seconds: PositiveFloat = Field(
        default=2.0, description="Pause after a 429 without Retry-After; doubles while repeated."
    )


@dataclass(frozen=True)
class LimitHint:
    """A limit the server named in its 429 answer (Dataverse states them in the message)."""

    requests: int | None = None
    execution_seconds: float | None = None
    window_seconds: float | None = None
    concurrency: int | None = None


class TokenBucket:
    """A reserving token bucket: ``take`` always grants and says how long to wait first.

    With capacity ``C`` and rate ``(N - C) / W`` no window of ``W`` seconds ever holds more than
    ``N`` granted starts, which is how a sliding-window request limit is kept.
    """

    def __init__(self, *, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self._tokens = capacity
        self._updated = now

    @classmethod
    def for_window(cls, *, limit: int, window: float, burst: int | None, now: float) -> TokenBucket:
        """A bucket that never grants more than ``limit`` starts in any ``window`` seconds."""
        capacity = float(burst if burst is not None else max(1, limit // 20))
        capacity = min(capacity, limit / 2)
        return cls(capacity=capacity, rate=(limit - capacity) / window, now=now)

    def take(self, *, now: float) -> float:
        """Reserve one token; return the seconds to wait before using it (0 when available)."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate


@dataclass
class ExecutionWindow:
    """Sum of request durations over a sliding window (Dataverse's execution-time limit)."""

    window: float
    budget: float
    _entries: deque[tuple[float, float]] = field(default_factory=deque)
    _total: float = 0.0

    def add(self, *, ended: float, duration: float) -> None:
        """Record one finished request."""
        self._entries.append((ended, duration))
        self._total += duration

    def wait(self, *, now: float) -> float:
        """Seconds until the window's total falls below the budget again."""
        self._expire(now)
        if self._total < self.budget:
            return 0.0
        excess = self._total - self.budget
        for ended, duration in self._entries:
            excess -= duration
            if excess < 0:
                return max(0.0, ended + self.window - now)
        return 0.0  # pragma: no cover - the loop always ends on a negative excess

    def _expire(self, now: float) -> None:
        while self._entries and self._entries[0][0] + self.window <= now:
            _, duration = self._entries.popleft()
            self._total -= duration


@dataclass
class AimdLimit:
    """Additive-increase, multiplicative-decrease concurrency limit.

    One 429 halves the limit once per throttling episode: answers to requests that were already
    in flight when the limit was cut do not cut it again.
    """

    minimum: int
    maximum: int
    value: float
    decrease_factor: float = 0.5
    last_cut: float = float("-inf")

    @property
    def current(self) -> int:
        """The whole number of requests allowed in flight now."""
        return max(self.minimum, min(self.maximum, int(self.value)))

    def on_success(self) -> None:
        """Grow by about one request per full window of successes."""
        self.value = min(float(self.maximum), self.value + 1.0 / max(self.value, 1.0))

    def on_throttle(self, *, request_started: float, now: float) -> bool:
        """Cut the limit unless this request predates the last cut; return whether it was cut."""
        if request_started < self.last_cut:
            return False
        self.value = max(float(self.minimum), self.value * self.decrease_factor)
        self.last_cut = now
        return True
