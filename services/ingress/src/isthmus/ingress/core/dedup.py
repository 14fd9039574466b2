"""Recognise redelivered events by id within a time window."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class DedupWindow:
    """Ids seen in the last ``window_s`` seconds (oldest forgotten first).

    ``seen`` only asks; ``remember`` is called once Kafka acknowledged the event, so an event
    whose produce failed is not mistaken for a duplicate when the sender retries it.
    """

    def __init__(
        self, *, window_s: float, clock: Callable[[], float] = time.monotonic, limit: int = 500_000
    ) -> None:
        self._window_s = window_s
        self._clock = clock
        self._limit = limit
        self._ids: OrderedDict[str, float] = OrderedDict()

    @property
    def window_s(self) -> float:
        """How long an id is remembered."""
        return self._window_s

    def seen(self, event_id: str) -> bool:
        """True when ``event_id`` was remembered less than the window ago."""
        self._expire()
        at = self._ids.get(event_id)
        return at is not None and at > self._clock() - self._window_s

    def remember(self, event_id: str, *, age_s: float = 0.0) -> None:
        """Remember ``event_id`` as accepted ``age_s`` seconds ago."""
        if self._window_s <= 0 or age_s >= self._window_s:
            return
        self._ids[event_id] = self._clock() - age_s
        self._ids.move_to_end(event_id)
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)

    def __len__(self) -> int:
        self._expire()
        horizon = self._clock() - self._window_s
        return sum(1 for at in self._ids.values() if at > horizon)

    def _expire(self) -> None:
        horizon = self._clock() - self._window_s
        while self._ids:
            oldest, at = next(iter(self._ids.items()))
            if at > horizon:
                return
            del self._ids[oldest]
