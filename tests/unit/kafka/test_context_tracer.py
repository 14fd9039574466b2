"""The context-only tracer continues traces as the SDK's default sampler does, recording nothing."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from isthmus.kafka import headers as h
from isthmus.kafka.context_tracer import ContextOnlyTracer
from isthmus.kafka.instrumentation import process_span

SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
NOT_SAMPLED = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"


def _span(tracer: trace.Tracer, traceparent: str | None) -> trace.Span:
    incoming = [(h.TRACEPARENT, traceparent.encode())] if traceparent else []
    return process_span(
        tracer, topic="t", partition=0, offset=7, key=b"k", group="g",
        parent=h.extract_context(incoming) if incoming else None,
    )  # fmt: skip


def _traceparent(span: trace.Span) -> str:
    return (
        h.get_str(list(h.trace_headers(trace.set_span_in_context(span)).items()), h.TRACEPARENT)
        or ""
    )


def test_a_record_with_a_trace_gets_a_child_like_the_sdk_gives_it() -> None:
    sdk = TracerProvider().get_tracer("test")
    for incoming in (SAMPLED, NOT_SAMPLED):
        ours, theirs = _span(ContextOnlyTracer(), incoming), _span(sdk, incoming)
        version, trace_id, span_id, flags = _traceparent(ours).split("-")
        assert (version, trace_id, flags) == tuple(
            _traceparent(theirs).split("-")[i] for i in (0, 1, 3)
        )
        assert trace_id == incoming.split("-")[1]
        assert span_id not in (incoming.split("-")[2], "0" * 16)  # a span of its own
        assert not ours.is_recording()


def test_a_record_without_a_trace_starts_a_new_sampled_one() -> None:
    tracer = ContextOnlyTracer()
    first, second = _span(tracer, None), _span(tracer, None)
    assert first.get_span_context().is_valid
    assert first.get_span_context().trace_id != second.get_span_context().trace_id
    assert _traceparent(first).endswith("-01")


def test_as_current_span_it_is_what_log_lines_and_outputs_read() -> None:
    with ContextOnlyTracer().start_as_current_span("process t") as span:
        assert trace.get_current_span() is span
        assert h.trace_headers()[h.TRACEPARENT] == _traceparent(span).encode()
    assert not trace.get_current_span().get_span_context().is_valid
