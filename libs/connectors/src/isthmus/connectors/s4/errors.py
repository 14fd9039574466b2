"""Errors of the S/4HANA client, parsed from SAP Gateway's JSON error bodies.

S4Error (ConnectorError)                     attributes: code (message class/number),
│                                            message_class, message_number, details
├── S4TransportError        (TransportError)           retryable
├── S4ThrottledError        (ThrottledError)           retryable  429 (API Management)
├── S4ServerError           (ServiceUnavailableError)  retryable  5xx
├── S4AuthenticationError   (AuthenticationError)      fatal      401, OAuth token refused
│   └── CsrfTokenError                                  fatal      403 Required after a refetch
├── S4PrivilegeError        (PrivilegeError)           fatal      403
├── S4NotFoundError         (NotFoundError)            invalid    404 /IWBEP/CM_MGW_RT/020
├── S4DuplicateError        (DuplicateError)           invalid    R1/286 "already exists"
├── S4ValidationError       (ValidationError)          invalid    400 business/technical errors
├── S4PreconditionError     (PreconditionFailedError)  invalid    412 / 428 ETag
├── S4SoapFaultError        (ValidationError)          invalid    SOAP fault or rejected posting
└── S4UnexpectedError       (UnexpectedResponseError)  fatal
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from isthmus.connectors import errors as connector_errors
from isthmus.connectors.exchange import retry_after_seconds


@dataclass(frozen=True)
class SapMessage:
    """One SAP message: from ``errordetails`` or the ``sap-message`` header."""

    code: str
    message: str
    severity: str = "error"
    target: str = ""

    @property
    def message_class(self) -> str:
        """The message class of ``code`` (``V1`` of ``V1/311``, ``/IWBEP/CM_MGW_RT`` of ...)."""
        return self.code.rpartition("/")[0]

    @property
    def message_number(self) -> str:
        """The message number of ``code`` (``311`` of ``V1/311``)."""
        return self.code.rpartition("/")[2] if "/" in self.code else ""


class S4Error(connector_errors.ConnectorError):
    """Root of the S/4HANA client's errors.

    Attributes:
        details: every backend message of ``innererror.errordetails``.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
        details: tuple[SapMessage, ...] = (),
    ) -> None:
        super().__init__(message, status=status, code=code, retry_after=retry_after)
        self.details = details

    @property
    def message_class(self) -> str:
        """Message class of the error code."""
        return SapMessage(code=self.code, message="").message_class

    @property
    def message_number(self) -> str:
        """Message number of the error code."""
        return SapMessage(code=self.code, message="").message_number


class S4TransportError(S4Error, connector_errors.TransportError):
    """The request to S/4HANA did not complete."""

    def __init__(self, message: str, *, request_sent: bool) -> None:
        S4Error.__init__(self, message)
        self.request_sent = request_sent


class S4ThrottledError(S4Error, connector_errors.ThrottledError):
    """A rate limit in front of S/4HANA answered 429."""


class S4ServerError(S4Error, connector_errors.ServiceUnavailableError):
    """S/4HANA failed or is unavailable (5xx)."""


class S4AuthenticationError(S4Error, connector_errors.AuthenticationError):
    """The credential was refused."""


class CsrfTokenError(S4AuthenticationError):
    """The CSRF token was refused even right after fetching a new one."""


class S4PrivilegeError(S4Error, connector_errors.PrivilegeError):
    """The communication user is not authorized for this service or object."""


class S4NotFoundError(S4Error, connector_errors.NotFoundError):
    """The entity or segment does not exist."""


class S4DuplicateError(S4Error, connector_errors.DuplicateError):
    """The object already exists."""


class S4ValidationError(S4Error, connector_errors.ValidationError):
    """S/4HANA rejected the payload (business or technical validation)."""


class S4PreconditionError(S4Error, connector_errors.PreconditionFailedError):
    """The ETag in ``If-Match`` is stale (412) or missing (428)."""


class S4SoapFaultError(S4Error, connector_errors.ValidationError):
    """A SOAP call answered with a fault or a rejecting log."""


class S4UnexpectedError(S4Error, connector_errors.UnexpectedResponseError):
    """A response the client cannot interpret."""


DUPLICATE_CODES = frozenset({"R1/286"})


def parse_error_body(text: str) -> tuple[str, str, tuple[SapMessage, ...]]:
    """``(code, message, details)`` of a Gateway JSON error; raw text when not JSON."""
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return "", text.strip()[:500], ()
    message = error.get("message", "")
    value = message.get("value", "") if isinstance(message, dict) else str(message)
    inner = error.get("innererror") or {}
    details = tuple(_detail(d) for d in inner.get("errordetails") or [] if isinstance(d, dict))
    return str(error.get("code", "")), str(value), details


def _detail(raw: dict[str, Any]) -> SapMessage:
    return SapMessage(
        code=str(raw.get("code", "")),
        message=str(raw.get("message", "")),
        severity=str(raw.get("severity", "error")),
        target=str(raw.get("target", "")),
    )


def map_error(response: httpx.Response) -> S4Error:
    """Translate an unsuccessful OData response into the matching error class."""
    code, message, details = parse_error_body(response.text)
    return classify(
        status=response.status_code,
        code=code,
        message=message or response.reason_phrase,
        details=details,
        retry_after=retry_after_seconds(response),
    )


_STATUS_CLASSES: dict[int, type[S4Error]] = {
    401: S4AuthenticationError,
    403: S4PrivilegeError,
    404: S4NotFoundError,
    412: S4PreconditionError,
    428: S4PreconditionError,
    429: S4ThrottledError,
}


def classify(
    *,
    status: int,
    code: str,
    message: str,
    details: tuple[SapMessage, ...] = (),
    retry_after: float | None = None,
) -> S4Error:
    """Pick the error class from status, error code and detail codes."""
    codes = {code, *(d.code for d in details)}
    kind: type[S4Error]
    if codes & DUPLICATE_CODES:
        kind = S4DuplicateError
    elif status in _STATUS_CLASSES:
        kind = _STATUS_CLASSES[status]
    elif status >= 500:  # noqa: PLR2004 - server errors
        kind = S4ServerError
    elif status >= 400:  # noqa: PLR2004 - client errors
        kind = S4ValidationError
    else:
        kind = S4UnexpectedError
    return kind(message, status=status, code=code, details=details, retry_after=retry_after)
