"""A tracer that carries trace context on without recording spans, for processes exporting none."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import (
    INVALID_SPAN_ID,
    INVALID_TRACE_ID,
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    TraceState,
)

_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_NO_STATE = TraceState()


class ContextOnlyTracer(Tracer):
    """Continues each record's trace (or starts one) with a fresh span id, records nothing.

    The ids and flags are the ones the SDK's default sampler (parent-based, always on) gives a
    span: a child keeps its parent's trace id, flags and state; a root gets a new trace id,
    sampled. So the next hop's ``traceparent`` and the trace ids in the log lines are what they
    would be with SDK spans, without building span objects that no exporter would ever read.
    Use it where no span processor is configured; with an exporter, use the SDK's tracer.
    """

    def start_span(  # noqa: PLR0917 - the signature of opentelemetry's Tracer.start_span
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        """A non-recording span whose context is a child of ``context`` (or a new root)."""
        parent = trace.get_current_span(context).get_span_context()
        if parent.is_valid:
            trace_id, flags, state = parent.trace_id, parent.trace_flags, parent.trace_state
        else:
            trace_id, flags, state = _new_id(128, INVALID_TRACE_ID), _SAMPLED, _NO_STATE
        own = SpanContext(trace_id, _new_id(64, INVALID_SPAN_ID), False, flags, state)
        return NonRecordingSpan(own)

    # The API's own context-manager decorator is private; this one has the same protocol.
    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # noqa: PLR0917 - the API's signature
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        """``start_span`` made the current span for the block."""
        span = self.start_span(name, context)
        with trace.use_span(span, end_on_exit=end_on_exit) as current:
            yield current


def _new_id(bits: int, invalid: int) -> int:
    """A random id, never the invalid value (as the SDK's RandomIdGenerator)."""
    value = random.getrandbits(bits)  # trace ids need uniqueness, not secrecy
    while value == invalid:
        value = random.getrandbits(bits)
    return value
