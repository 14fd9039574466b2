"""The Dataverse call log in memory, shown as the admin API lists it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from isthmus.sandbox_kit.calllog import CallFilter, CallRecord, InMemoryCallStore


def _shown(call: CallRecord) -> dict[str, Any]:
    return {
        "request_id": call.request_id,
        "time": dt.datetime.fromtimestamp(call.at, dt.UTC).isoformat(),
        "method": call.method,
        "path": call.path,
        "query": call.query,
        "status": call.status,
        "duration_ms": call.duration_ms,
        "fault": call.fault,
        "app_status": call.app_status,
    }


class CallLog(InMemoryCallStore):
    """A bounded, in-memory list of calls (newest last)."""

    def query(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        """Calls filtered by method, path prefix and status."""
        wanted = CallFilter(method=method, path_prefix=path, status=status)
        return [_shown(c) for c in wanted.select(self.calls())]
