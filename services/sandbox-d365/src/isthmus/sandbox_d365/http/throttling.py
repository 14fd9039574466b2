"""Service protection limits: per-user sliding window (requests, execution time) + concurrency."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

from isthmus.sandbox_d365.errors import DataverseError

REQUESTS_CODE = "0x80072322"
EXECUTION_CODE = "0x80072321"
CONCURRENCY_CODE = "0x80072326"


@dataclass
class Limits:
    """The configured limits (Dataverse defaults: 6000 requests, 1,200,000 ms, 300 s, 52)."""

    requests: int
    execution_ms: int
    window_s: float
    concurrency: int


class Throttle:
    """Tracks each user's requests in the window and its requests in flight.

    A refused request still counts in the request window (with no execution time), so a client
    that keeps calling while throttled pushes its own ``Retry-After`` further out, as Dataverse
    does.
    """

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._window: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        self._used_ms: dict[str, float] = defaultdict(float)  # running sum of the window
        self._active: dict[str, int] = defaultdict(int)

    def reset(self, limits: Limits | None = None) -> None:
        """Forget all history (and optionally change the limits)."""
        if limits is not None:
            self.limits = limits
        self._window.clear()
        self._used_ms.clear()
        self._active.clear()

    def _prune(self, user: str, now: float) -> deque[tuple[float, float]]:
        window = self._window[user]
        while window and window[0][0] <= now - self.limits.window_s:
            self._used_ms[user] -= window.popleft()[1]
        if not window:
            self._used_ms[user] = 0.0
        return window

    def enter(self, user: str) -> None:
        """Admit one request of ``user`` or refuse it.

        Raises:
            DataverseError: 429 with ``Retry-After`` and the Dataverse code of the exceeded limit.
        """
        now = self._clock()
        window = self._prune(user, now)
        limits = self.limits
        if self._active[user] >= limits.concurrency:
            raise _throttled(
                CONCURRENCY_CODE,
                f"Number of concurrent requests exceeded the limit of {limits.concurrency}.",
                1,
            )
        if len(window) >= limits.requests:
            window.append((now, 0.0))
            raise _throttled(
                REQUESTS_CODE,
                f"Number of requests exceeded the limit of {limits.requests} over time window of "
                f"{_seconds(limits.window_s)} seconds.",
                self._until(window[len(window) - limits.requests][0], now),
            )
        if self._used_ms[user] >= limits.execution_ms:
            window.append((now, 0.0))
            raise _throttled(
                EXECUTION_CODE,
                f"Combined execution time of incoming requests exceeded limit of "
                f"{limits.execution_ms:,} milliseconds over time window of "
                f"{_seconds(limits.window_s)} seconds. Decrease number of concurrent requests or "
                "reduce the duration of requests and try again later.",
                self._until(self._time_frees_up(user, window), now),
            )
        self._active[user] += 1

    def leave(self, user: str, *, elapsed_ms: float) -> None:
        """Record a finished request."""
        self._active[user] = max(0, self._active[user] - 1)
        self._window[user].append((self._clock(), elapsed_ms))
        self._used_ms[user] += elapsed_ms

    def remaining(self, user: str) -> dict[str, str]:
        """The ``x-ms-ratelimit-*`` headers for ``user``."""
        window = self._prune(user, self._clock())
        used_ms = self._used_ms[user]
        return {
            "x-ms-ratelimit-burst-remaining-xrm-requests": str(
                max(0, self.limits.requests - len(window))
            ),
            "x-ms-ratelimit-time-remaining-xrm-requests": (
                f"{max(0.0, self.limits.execution_ms - used_ms):.2f}"
            ),
        }

    def _time_frees_up(self, user: str, window: deque[tuple[float, float]]) -> float:
        """When enough execution time has left the window to go below the limit."""
        left = self._used_ms[user]
        for moment, ms in window:
            left -= ms
            if left < self.limits.execution_ms:
                return moment
        return window[-1][0]

    def _until(self, moment: float, now: float) -> int:
        """Whole seconds until an entry recorded at ``moment`` leaves the window."""
        return max(1, math.ceil(moment + self.limits.window_s - now))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _throttled(code: str, message: str, retry_after: int) -> DataverseError:
    return DataverseError(
        status=429, code=code, message=message, headers={"Retry-After": str(retry_after)}
    )
