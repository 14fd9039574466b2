"""The log of calls the sandbox received, so tests can assert "created exactly once"."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request as received and answered."""

    request_id: str
    time: str
    method: str
    path: str
    query: str
    status: int
    duration_ms: float
    fault: str | None = None
    app_status: int | None = None


class CallLog:
    """A bounded, in-memory list of calls (newest last)."""

    def __init__(self, *, size: int) -> None:
        self._calls: deque[Call] = deque(maxlen=size)

    def add(self, call: Call) -> None:
        """Record a call."""
        self._calls.append(call)

    def clear(self) -> None:
        """Forget every call."""
        self._calls.clear()

    def query(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        """Calls filtered by method, path prefix and status."""
        return [
            asdict(c)
            for c in self._calls
            if (method is None or c.method == method.upper())
            and (path is None or c.path.startswith(path))
            and (status is None or c.status == status)
        ]
