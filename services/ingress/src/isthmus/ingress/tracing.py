"""W3C trace context for produced records: continue the caller's trace or start one."""

from __future__ import annotations

import re
import secrets

from opentelemetry import trace

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def outgoing_traceparent(incoming: str | None) -> str:
    """The ``traceparent`` for records produced under the current span.

    With an SDK tracer the current span is used; without one (no telemetry set up), the caller's
    trace id is kept with a new span id, or a new trace is started.
    """
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
    match = _TRACEPARENT.match((incoming or "").strip().lower())
    trace_id = match.group(1) if match and set(match.group(1)) != {"0"} else secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01"
