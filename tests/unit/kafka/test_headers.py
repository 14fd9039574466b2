"""The header codec: CloudEvents, trace context, error info and routing headers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from isthmus.kafka import failures
from isthmus.kafka import headers as h

pytestmark = pytest.mark.unit

MOMENT = datetime(2026, 1, 31, 12, 0, 0, 123_000, tzinfo=UTC)


def test_cloud_event_round_trips_through_binary_mode_headers() -> None:
    event = h.CloudEvent(
        id="evt-1", source="/d365/org1", type="io.isthmus.d365.salesorder.created",
        time=MOMENT, subject="salesorder/42",
    )  # fmt: skip
    headers = h.merge([("other", b"x")], event.headers())
    assert h.get(headers, h.CE_TIME) == b"2026-01-31T12:00:00.123Z"
    assert h.get(headers, h.CE_SPECVERSION) == b"1.0"
    assert h.read_cloud_event(headers) == event
    assert h.get(headers, "other") == b"x"


def test_a_record_without_the_required_ce_headers_has_no_cloud_event() -> None:
    assert h.read_cloud_event([(h.CE_ID, b"1"), (h.CE_SOURCE, b"s")]) is None
    bad_time = [(h.CE_ID, b"1"), (h.CE_SOURCE, b"s"), (h.CE_TYPE, b"t"), (h.CE_TIME, b"soon")]
    assert h.read_cloud_event(bad_time) is None


@given(
    error_class=st.sampled_from(["retryable", "invalid"]),
    message=st.text(max_size=300),
    partition=st.integers(0, 10_000),
    offset=st.integers(0, 2**62),
    attempt=st.integers(1, 1_000),
)
def test_error_info_round_trips(
    error_class: str, message: str, partition: int, offset: int, attempt: int
) -> None:
    info = h.ErrorInfo(
        error_class=error_class, message=message, stage="decode", source_topic="d365.x.events",
        source_partition=partition, source_offset=offset, attempt=attempt, first_failure=MOMENT,
    )  # fmt: skip
    decoded = h.read_error_info(h.merge([], info.headers()))
    assert decoded is not None
    assert decoded.origin == f"d365.x.events/{partition}/{offset}"
    assert (decoded.attempt, decoded.first_failure, decoded.error_class) == (
        attempt, MOMENT, error_class,
    )  # fmt: skip
    assert all(name.startswith("isthmus_error_") for name in info.headers())


def test_a_long_error_message_is_cut_and_a_malformed_set_is_ignored() -> None:
    info = h.ErrorInfo("invalid", "x" * 10_000, "handle", "t", 0, 1, 1, MOMENT)
    assert len(info.headers()[h.ERROR_MESSAGE] or b"") == 2_000
    broken = h.merge([], {**info.headers(), h.ERROR_ATTEMPT: b"many"})
    assert h.read_error_info(broken) is None


def test_dlq_headers_keep_the_originals_and_replace_earlier_error_and_routing_headers() -> None:
    first = h.ErrorInfo("retryable", "503", "handle", "s4.x.commands", 2, 7, 1, MOMENT)
    retry = failures.retry_headers([("ce_id", b"e1")], info=first, due_ms=123)
    second = failures.next_error_info(
        previous=h.read_error_info(retry), error_class="invalid", message="400",
        stage="handle", topic="g.retry.1s", partition=0, offset=99, now=datetime.now(tz=UTC),
    )  # fmt: skip
    dead = failures.dlq_headers(retry, info=second)
    assert h.get(dead, "ce_id") == b"e1"
    assert h.get(dead, h.RETRY_DUE) is None
    assert [k for k, _ in dead].count(h.ERROR_CLASS) == 1
    decoded = h.read_error_info(dead)
    assert decoded is not None
    assert (decoded.origin, decoded.attempt, decoded.first_failure) == (
        "s4.x.commands/2/7",
        2,
        MOMENT,
    )


def test_a_parked_record_has_not_failed_so_its_later_failure_starts_the_clock() -> None:
    parked = failures.next_error_info(
        previous=None, error_class=failures.PARKED_CLASS, message="behind", stage="order",
        topic="src", partition=0, offset=5, now=MOMENT,
    )  # fmt: skip
    assert parked.attempt == 0
    later = datetime(2026, 2, 1, tzinfo=UTC)
    failed = failures.next_error_info(
        previous=parked, error_class="retryable", message="503", stage="handle",
        topic="g.retry.1s", partition=0, offset=1, now=later,
    )  # fmt: skip
    assert (failed.attempt, failed.first_failure, failed.origin) == (1, later, "src/0/5")


def test_trace_context_is_injected_and_extracted_through_headers() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("producer") as span:
        headers = h.merge([], h.trace_headers())
    context = h.extract_context(headers)
    extracted = trace.get_current_span(context).get_span_context()
    assert extracted.trace_id == span.get_span_context().trace_id
    assert h.get_str(
        headers,
        h.TRACEPARENT,
    ).startswith("00-")  # type: ignore[union-attr]
    assert not trace.get_current_span(h.extract_context([])).get_span_context().is_valid
