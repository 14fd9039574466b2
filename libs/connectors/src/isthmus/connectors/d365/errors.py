"""Errors of the Dataverse client, mapped from HTTP status and Dataverse error codes.

DataverseError (ConnectorError)
├── DataverseTransportError        (TransportError)           retryable
├── DataverseThrottledError        (ThrottledError)           retryable  0x80072322/21/26
├── DataverseServerError           (ServiceUnavailableError)  retryable  5xx
├── DataverseAuthenticationError   (AuthenticationError)      fatal      401, AADSTS errors
├── DataversePrivilegeError        (PrivilegeError)           fatal      403
├── DataverseNotFoundError         (NotFoundError)            invalid    404, 0x80040217
├── DataverseDuplicateError        (DuplicateError)           invalid    0x80040237, 0x80060892,
│                                                                        0x80040333, If-None-Match *
├── DataverseValidationError       (ValidationError)          invalid    other 400/405/413
├── DataversePreconditionError     (PreconditionFailedError)  invalid    412 version mismatch
└── DataverseUnexpectedError       (UnexpectedResponseError)  fatal
"""

from __future__ import annotations

import json
import re

import httpx

from isthmus.connectors import errors as connector_errors
from isthmus.connectors.budget import LimitHint
from isthmus.connectors.exchange import retry_after_seconds


class DataverseError(connector_errors.ConnectorError):
    """Root of the Dataverse client's errors."""


class DataverseTransportError(DataverseError, connector_errors.TransportError):
    """The request to Dataverse did not complete."""


class DataverseThrottledError(DataverseError, connector_errors.ThrottledError):
    """A service-protection limit was hit (429); ``retry_after`` is the server's ask."""


class DataverseServerError(DataverseError, connector_errors.ServiceUnavailableError):
    """Dataverse failed or is unavailable (5xx)."""


class DataverseAuthenticationError(DataverseError, connector_errors.AuthenticationError):
    """No token could be obtained, or Dataverse refused it."""


class DataversePrivilegeError(DataverseError, connector_errors.PrivilegeError):
    """The application user lacks a privilege or is not a member of the organization."""


class DataverseNotFoundError(DataverseError, connector_errors.NotFoundError):
    """The addressed row does not exist."""


class DataverseDuplicateError(DataverseError, connector_errors.DuplicateError):
    """A row with the same primary or alternate key already exists."""


class DataverseValidationError(DataverseError, connector_errors.ValidationError):
    """Dataverse rejected the request as invalid."""


class DataversePreconditionError(DataverseError, connector_errors.PreconditionFailedError):
    """The row changed since the ETag sent in ``If-Match`` was read."""


class DataverseUnexpectedError(DataverseError, connector_errors.UnexpectedResponseError):
    """A response the client cannot interpret."""


DUPLICATE_CODES = frozenset({"0x80040237", "0x80060892", "0x80040333"})
NOT_FOUND_CODES = frozenset({"0x80040217"})
THROTTLE_CODES = frozenset({"0x80072322", "0x80072321", "0x80072326"})
_DUPLICATE_MESSAGE = "already exists"


_REQUESTS = re.compile(r"limit of ([\d,]+) over time window of ([\d.]+) seconds")
_EXECUTION = re.compile(r"limit of ([\d,]+) milliseconds over time window of ([\d.]+) seconds")
_CONCURRENCY = re.compile(r"concurrent requests exceeded the limit of (\d+)")


def limit_hint(response: httpx.Response) -> LimitHint | None:
    """The service-protection limit a Dataverse 429 names in its message, if it names one."""
    code, message = error_body(response.text)
    if code == "0x80072321" and (found := _EXECUTION.search(message)):
        ms, window = found.groups()
        return LimitHint(
            execution_seconds=int(ms.replace(",", "")) / 1000, window_seconds=float(window)
        )
    if code == "0x80072322" and (found := _REQUESTS.search(message)):
        count, window = found.groups()
        return LimitHint(requests=int(count.replace(",", "")), window_seconds=float(window))
    if code == "0x80072326" and (found := _CONCURRENCY.search(message)):
        return LimitHint(concurrency=int(found.group(1)))
    return None


def error_body(text: str) -> tuple[str, str]:
    """The ``(code, message)`` of a Dataverse error body; empty strings when absent."""
    try:
        error = json.loads(text).get("error", {})
    except (ValueError, AttributeError):
        return "", text[:500]
    if not isinstance(error, dict):
        return "", text[:500]
    return str(error.get("code") or ""), str(error.get("message") or "")


def map_error(response: httpx.Response) -> DataverseError:
    """Translate an unsuccessful Web API response into the matching error class."""
    code, message = error_body(response.text)
    return classify(
        status=response.status_code,
        code=code,
        message=message or response.reason_phrase,
        retry_after=retry_after_seconds(response),
    )


def classify(*, status: int, code: str, message: str, retry_after: float | None) -> DataverseError:
    """Pick the error class from status and Dataverse error code (also used for batch parts)."""
    kind = _by_code(code, message) or _by_status(status)
    return kind(message, status=status, code=code, retry_after=retry_after)


def _by_code(code: str, message: str) -> type[DataverseError] | None:
    if code in THROTTLE_CODES:
        return DataverseThrottledError
    if code in DUPLICATE_CODES or (_DUPLICATE_MESSAGE in message and "match" in message):
        return DataverseDuplicateError
    if code in NOT_FOUND_CODES:
        return DataverseNotFoundError
    return None


_STATUS_CLASSES: dict[int, type[DataverseError]] = {
    401: DataverseAuthenticationError,
    403: DataversePrivilegeError,
    404: DataverseNotFoundError,
    412: DataversePreconditionError,
    429: DataverseThrottledError,
}


def _by_status(status: int) -> type[DataverseError]:
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:  # noqa: PLR2004 - server errors
        return DataverseServerError
    if status >= 400:  # noqa: PLR2004 - client errors
        return DataverseValidationError
    return DataverseUnexpectedError
