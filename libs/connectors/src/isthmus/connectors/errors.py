"""Error categories shared by the Dataverse and S/4HANA clients.

Every error carries ``kind``, one of ``retryable``, ``invalid`` or ``fatal``; the values are those
of ``isthmus.kafka.errors.ErrorClass`` so the consumer loop can route on them directly.

ConnectorError                  root; never raised itself
├── TransportError              timeout, refused or dropped connection           retryable
├── ThrottledError              429; ``retry_after`` says how long to wait        retryable
├── ServiceUnavailableError     500, 502, 503, 504                               retryable
├── AuthenticationError         token cannot be obtained or is refused            fatal
├── PrivilegeError              the credential lacks a privilege                  fatal
├── NotFoundError               the addressed record does not exist               invalid
├── DuplicateError              a record with the same key already exists         invalid
├── ValidationError             the target rejected the payload                   invalid
├── PreconditionFailedError     the ETag no longer matches (changed meanwhile)    invalid
└── UnexpectedResponseError     a response the client cannot interpret            fatal

``isthmus.connectors.d365.errors`` and ``isthmus.connectors.s4.errors`` subclass each category
under their own root (``DataverseError``, ``S4Error``).
"""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorKind = Literal["retryable", "invalid", "fatal"]


class ConnectorError(Exception):
    """Root of every error raised by ``isthmus.connectors``.

    Attributes:
        kind: how a caller should route the failure (retryable, invalid, fatal).
        status: HTTP status of the response, when there was one.
        code: the target system's error code (Dataverse hex code, SAP message class/number).
        message: the target system's message text, or a description of the failure.
        retry_after: seconds the server asked the caller to wait, when it said so.
    """

    kind: ClassVar[ErrorKind] = "fatal"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [f"HTTP {self.status}" if self.status is not None else "", self.code, self.message]
        return " ".join(p for p in parts if p)


class TransportError(ConnectorError):
    """The request did not complete: timeout, refused or dropped connection.

    Attributes:
        request_sent: False when the connection failed before the request could reach the
            server (connect error or timeout), so even a create may safely be sent again.
    """

    kind: ClassVar[ErrorKind] = "retryable"

    def __init__(
        self,
        message: str,
        *,
        request_sent: bool = True,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, retry_after=retry_after)
        self.request_sent = request_sent


class ThrottledError(ConnectorError):
    """The target refused the request because of a rate limit (HTTP 429)."""

    kind: ClassVar[ErrorKind] = "retryable"


class ServiceUnavailableError(ConnectorError):
    """The target failed or is temporarily unavailable (HTTP 5xx)."""

    kind: ClassVar[ErrorKind] = "retryable"


class AuthenticationError(ConnectorError):
    """No valid credential: the token endpoint refused, or the target refused the token."""


class PrivilegeError(ConnectorError):
    """The credential is authenticated but not allowed to do this (HTTP 403)."""


class NotFoundError(ConnectorError):
    """The addressed record does not exist (HTTP 404)."""

    kind: ClassVar[ErrorKind] = "invalid"


class DuplicateError(ConnectorError):
    """A record with the same key already exists."""

    kind: ClassVar[ErrorKind] = "invalid"


class ValidationError(ConnectorError):
    """The target rejected the payload as invalid (HTTP 400 and similar)."""

    kind: ClassVar[ErrorKind] = "invalid"


class PreconditionFailedError(ConnectorError):
    """The ETag sent in ``If-Match`` no longer matches the record (HTTP 412)."""

    kind: ClassVar[ErrorKind] = "invalid"


class UnexpectedResponseError(ConnectorError):
    """The response could not be interpreted (wrong shape, unknown status)."""


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
