"""Retry policies (tenacity) per error class: back off on retryable errors, never on the rest."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential_jitter,
)

from isthmus.connectors.errors import (
    ConnectorError,
    ServiceUnavailableError,
    ThrottledError,
    TransportError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class RetryPolicy(BaseModel):
    """How long and how often a retryable failure is retried in place."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deadline_seconds: PositiveFloat = Field(
        default=60.0, description="No retry starts once waiting for it would pass this total."
    )
    max_attempts: PositiveInt = 10
    initial_backoff_seconds: PositiveFloat = 0.2
    max_backoff_seconds: PositiveFloat = 10.0
    jitter_seconds: float = Field(default=0.2, ge=0.0)


def is_retryable(error: BaseException, *, idempotent: bool) -> bool:
    """Whether ``error`` may be retried in place.

    Validation, not-found, duplicate, precondition, privilege and authentication errors never
    are. A request that is not idempotent (a POST create) is retried only when the failure proves
    the server did not act on it: a 429, a 503, or a connection that never carried the request.
    """
    if not isinstance(error, ConnectorError) or error.kind != "retryable":
        return False
    if idempotent:
        return True
    if isinstance(error, ThrottledError):
        return True
    if isinstance(error, ServiceUnavailableError):
        return error.status == 503  # noqa: PLR2004 - 503: the server refused before acting
    return isinstance(error, TransportError) and not error.request_sent


class _WaitHonouringRetryAfter:
    """Jittered exponential backoff, but never shorter than the server's ``Retry-After``."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = wait_exponential_jitter(
            multiplier=policy.initial_backoff_seconds,
            max=policy.max_backoff_seconds,
            jitter=policy.jitter_seconds,
        )

    def __call__(self, state: RetryCallState) -> float:
        backoff = float(self._backoff(state))
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, ConnectorError) and error.retry_after is not None:
            return max(backoff, error.retry_after)
        return backoff


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning(
        "retrying after %s (attempt %d, next in %.2fs)",
        type(error).__name__,
        state.attempt_number,
        state.next_action.sleep if state.next_action else 0.0,
    )


def retrying(*, policy: RetryPolicy, idempotent: bool) -> AsyncRetrying:
    """A tenacity controller applying ``policy``; the last error is re-raised unchanged."""
    return AsyncRetrying(
        retry=retry_if_exception(lambda exc: is_retryable(exc, idempotent=idempotent)),
        wait=_WaitHonouringRetryAfter(policy),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.deadline_seconds),
        before_sleep=_log_retry,
        reraise=True,
    )


async def call_with_retries(
    operation: Callable[[int], Awaitable[T]], *, policy: RetryPolicy, idempotent: bool
) -> T:
    """Run ``operation(retry_count)`` until it succeeds or the policy gives up.

    Raises:
        ConnectorError: the last error, once it is not retryable or the policy is exhausted.
    """
    async for attempt in retrying(policy=policy, idempotent=idempotent):
        with attempt:
            return await operation(attempt.retry_state.attempt_number - 1)
    raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover
