"""Errors of the sink runtime and the six failure classes of docs/architecture.md.

SinkError                      root; never raised itself
└── CommandFailedError         one command failed; ``failure`` says which of the classes below
    └── DependencyMissingError a prerequisite (e.g. the customer of an order) is not there yet

FailureClass (what the loop does with a failed command):
    VALIDATION     the target rejected the payload          DLQ with the target's message
    UNAVAILABLE    5xx, timeout, connection                 retry topics, then DLQ; breaker
    AUTH           token or CSRF refused after a refresh    hold, pause consumption, alert
    BUSINESS       the target refused by a business rule    DLQ
    CONFLICT       a record exists and differs              DLQ (an equal one is a success)
    THROTTLED      429 after the governor's waits           retry topics, never the DLQ
    DEPENDENCY     a prerequisite is missing                retry topics until the wait ends
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from isthmus.connectors import errors as connector_errors


class FailureClass(StrEnum):
    """How a failed command is routed (see the module docstring)."""

    VALIDATION = "validation"
    UNAVAILABLE = "unavailable"
    AUTH = "auth"
    BUSINESS = "business"
    CONFLICT = "conflict"
    THROTTLED = "throttled"
    DEPENDENCY = "dependency"

    @property
    def kafka_class(self) -> str:
        """The ``isthmus_error_class`` header value (the runtime's three kinds)."""
        retryable = {self.UNAVAILABLE, self.THROTTLED, self.DEPENDENCY, self.AUTH}
        return "retryable" if self in retryable else "invalid"


class SinkError(Exception):
    """Root of every error raised by ``isthmus.sink``."""


class CommandFailedError(SinkError):
    """One command failed at its target.

    Attributes:
        failure: its failure class.
        message: the target's message (or ours), kept for the DLQ header and the result.
        code: the target's error code, when it gave one.
        http_status: HTTP status of the failing call, when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        failure: FailureClass,
        code: str = "",
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.failure = failure
        self.code = code
        self.http_status = http_status

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.failure.value}: {self.message}{code}"


class DependencyMissingError(CommandFailedError):
    """The command needs a record that does not exist yet (no xref entry, not in the target).

    ``awaits`` names the ``xref.ids`` keys whose arrival would answer it, when it is known: the
    retry copy carries them and the sink releases it as soon as they are linked.
    """

    def __init__(self, message: str, *, awaits: Sequence[str] = ()) -> None:
        super().__init__(message, failure=FailureClass.DEPENDENCY)
        self.awaits = tuple(awaits)


_BUSINESS_STATUSES = frozenset({409, 422})
_BY_CATEGORY: tuple[
    tuple[
        type[connector_errors.ConnectorError] | tuple[type[connector_errors.ConnectorError], ...],
        FailureClass,
    ],
    ...,
] = (
    (connector_errors.ThrottledError, FailureClass.THROTTLED),
    (
        (connector_errors.ServiceUnavailableError, connector_errors.TransportError),
        FailureClass.UNAVAILABLE,
    ),
    ((connector_errors.AuthenticationError, connector_errors.PrivilegeError), FailureClass.AUTH),
    (
        (connector_errors.DuplicateError, connector_errors.PreconditionFailedError),
        FailureClass.CONFLICT,
    ),
    (connector_errors.NotFoundError, FailureClass.VALIDATION),
)


def failure_of(error: connector_errors.ConnectorError) -> FailureClass:
    """The failure class of a connector error (after the connector's own retries)."""
    for category, failure in _BY_CATEGORY:
        if isinstance(error, category):
            return failure
    if isinstance(error, connector_errors.ValidationError):
        # SAP and Dataverse answer business-rule refusals with 400 too; 409/422 say so plainly.
        if error.status in _BUSINESS_STATUSES:
            return FailureClass.BUSINESS
        return FailureClass.VALIDATION
    return FailureClass.UNAVAILABLE if error.kind == "retryable" else FailureClass.VALIDATION


def from_connector(error: connector_errors.ConnectorError) -> CommandFailedError:
    """Translate a connector error into the command failure the loop routes."""
    return CommandFailedError(
        error.message or str(error),
        failure=failure_of(error),
        code=error.code,
        http_status=error.status,
    )
