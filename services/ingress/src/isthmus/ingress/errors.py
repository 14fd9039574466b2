"""Errors of the ingress; each one maps to exactly one HTTP status.

IngressError                      status
├── RejectedError                 4xx: the caller's request is wrong; nothing is produced
│   ├── UnauthenticatedError      401  no credential
│   ├── ForbiddenError            403  wrong credential
│   ├── PayloadTooLargeError      413  body above the configured limit
│   ├── UnsupportedMediaError     415  content type not accepted
│   ├── RateLimitedError          429  per-source rate limit (Retry-After)
│   ├── MalformedError            400  not JSON / not a CloudEvent / schema violations
│   └── UnknownTopicError         404  publish API topic not open for publishing
└── UnavailableError              503  Kafka or the hydration source did not answer; retry
"""

from __future__ import annotations


class IngressError(Exception):
    """Root of the ingress errors; ``status`` is the HTTP answer."""

    status = 500

    def __init__(self, message: str, *, violations: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.violations = violations


class RejectedError(IngressError):
    """The request can never succeed as sent (4xx)."""

    status = 400


class UnauthenticatedError(RejectedError):
    """No credential was presented (or, for bearer tokens, one that does not verify).

    ``challenge`` is the ``WWW-Authenticate`` value of the answer, when the scheme has one.
    """

    status = 401

    def __init__(self, message: str, *, challenge: str | None = None) -> None:
        super().__init__(message)
        self.challenge = challenge


class ForbiddenError(RejectedError):
    """A credential was presented and did not match."""

    status = 403


class PayloadTooLargeError(RejectedError):
    """The body is larger than the configured limit."""

    status = 413


class UnsupportedMediaError(RejectedError):
    """The content type is not one the endpoint reads."""

    status = 415


class RateLimitedError(RejectedError):
    """The source sent more requests than its rate allows."""

    status = 429

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class MalformedError(RejectedError):
    """The body is not what the endpoint reads; ``violations`` lists every problem."""

    status = 400


class UnknownTopicError(RejectedError):
    """The publish API does not accept this topic."""

    status = 404


class UnavailableError(IngressError):
    """Kafka did not acknowledge, or the source could not be read for hydration: retry."""

    status = 503
