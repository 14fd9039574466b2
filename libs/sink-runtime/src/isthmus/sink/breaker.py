"""Circuit breaker of one target (pure): open after sustained unavailability, probe, close."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    """Closed: calls flow. Open: consumption paused until the next probe. Half-open: probing."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Counts unavailability failures in a row; ``threshold`` of them open the circuit.

    While open, nothing is sent to the target; after ``open_s`` a probe decides: success closes
    the circuit, failure keeps it open for another (doubled, capped) period.
    """

    threshold: int
    open_s: float
    max_open_s: float
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    period_s: float = 0.0
    opened_count: int = 0

    def record_success(self) -> None:
        """A call answered: reset the count and close."""
        self.failures = 0
        self.state = BreakerState.CLOSED
        self.period_s = 0.0

    def record_failure(self, *, now: float) -> bool:
        """An unavailability failure; returns True when this one opened the circuit."""
        self.failures += 1
        if self.state is BreakerState.CLOSED and self.failures >= self.threshold:
            self._open(now, self.open_s)
            return True
        return False

    @property
    def is_open(self) -> bool:
        """True while calls must not be sent (open or probing)."""
        return self.state is not BreakerState.CLOSED

    def probe_due(self, *, now: float) -> bool:
        """True when the open period is over and a probe should be made."""
        return self.state is BreakerState.OPEN and now >= self.opened_at + self.period_s

    def start_probe(self) -> None:
        """Mark the probe as running."""
        self.state = BreakerState.HALF_OPEN

    def probe_failed(self, *, now: float) -> None:
        """The probe failed: stay open for a longer period."""
        self._open(now, min(self.max_open_s, max(self.open_s, self.period_s * 2)))

    def _open(self, now: float, period: float) -> None:
        self.state = BreakerState.OPEN
        self.opened_at = now
        self.period_s = period
        self.opened_count += 1
