"""Retry policy: which errors are retried, and never sooner than Retry-After."""

from __future__ import annotations

import pytest
from tenacity import RetryCallState

from isthmus.connectors.d365.errors import (
    DataverseDuplicateError,
    DataverseNotFoundError,
    DataverseServerError,
    DataverseThrottledError,
    DataverseTransportError,
    DataverseValidationError,
)
from isthmus.connectors.retry import RetryPolicy, _WaitHonouringRetryAfter, is_retryable

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("error", "idempotent", "expected"),
    [
        (DataverseThrottledError("t", status=429), False, True),
        (DataverseServerError("s", status=503), False, True),
        (DataverseServerError("s", status=504), False, False),
        (DataverseServerError("s", status=504), True, True),
        (DataverseTransportError("c", request_sent=False), False, True),
        (DataverseTransportError("r", request_sent=True), False, False),
        (DataverseTransportError("r", request_sent=True), True, True),
        (DataverseValidationError("v", status=400), True, False),
        (DataverseNotFoundError("n", status=404), True, False),
        (DataverseDuplicateError("d", status=412), True, False),
        (ValueError("bug"), True, False),
    ],
)
def test_retryable_matrix(error: BaseException, idempotent: bool, expected: bool) -> None:
    assert is_retryable(error, idempotent=idempotent) is expected


def test_wait_is_never_shorter_than_retry_after() -> None:
    wait = _WaitHonouringRetryAfter(RetryPolicy(initial_backoff_seconds=0.01, jitter_seconds=0))
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = 1
    state.set_exception(
        (DataverseThrottledError, DataverseThrottledError("t", retry_after=12.0), None)
    )
    assert wait(state) >= 12.0
    state.set_exception((DataverseServerError, DataverseServerError("s"), None))
    assert wait(state) < 1.0
