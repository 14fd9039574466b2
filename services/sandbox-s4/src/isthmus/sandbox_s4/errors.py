"""Errors of the S/4HANA sandbox; each knows the HTTP status and SAP message it answers with.

SandboxError
├── ODataError                  OData error JSON (`error.code`, `innererror.errordetails`)
│   ├── MalformedRequestError       400 /IWBEP/CM_MGW_RT/... technical (bad payload, bad query)
│   ├── BusinessError               400 business validation (V1/..., VP/..., R1/...)
│   ├── ForbiddenError              403 no authorization / unknown service
│   ├── ResourceNotFoundError       404 /IWBEP/CM_MGW_RT/020
│   ├── MethodNotAllowedError       405 operation not allowed on the entity set
│   ├── PreconditionFailedError     412 If-Match does not match the ETag
│   ├── PreconditionRequiredError   428 If-Match missing where an ETag is defined
│   └── InternalError               500 unexpected failure inside the sandbox
├── AuthenticationError         401 logon failure (plain text, not OData)
├── CsrfTokenError              403 `X-CSRF-Token: Required`, plain text
└── SoapFaultError              SOAP fault for the journal entry service
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageDetail:
    """One backend message (an `errordetails` entry or a `sap-message` detail)."""

    code: str
    message: str
    severity: str = "error"
    target: str = ""


class SandboxError(Exception):
    """Root of the sandbox's errors."""


class ODataError(SandboxError):
    """An error answered with SAP Gateway's OData error body."""

    status = 500
    default_code = "/IWBEP/CM_MGW_RT/000"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: tuple[MessageDetail, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


class MalformedRequestError(ODataError):
    """The request cannot be parsed or names unknown properties."""

    status = 400
    default_code = "/IWBEP/CM_MGW_RT/004"


class BusinessError(ODataError):
    """The backend rejected the document (validation of a business rule)."""

    status = 400


class ForbiddenError(ODataError):
    """No authorization for the service, or the service does not exist."""

    status = 403
    default_code = "/IWFND/CM_CONSUMER/101"


class ResourceNotFoundError(ODataError):
    """Unknown entity set, key or segment."""

    status = 404
    default_code = "/IWBEP/CM_MGW_RT/020"


class MethodNotAllowedError(ODataError):
    """The entity set does not support the operation (e.g. not creatable)."""

    status = 405
    default_code = "/IWBEP/CM_MGW_RT/021"


class PreconditionFailedError(ODataError):
    """If-Match names an outdated ETag."""

    status = 412
    default_code = "/IWBEP/CM_MGW_RT/190"


class PreconditionRequiredError(ODataError):
    """If-Match is missing for an entity with an ETag."""

    status = 428
    default_code = "/IWBEP/CM_MGW_RT/191"


class InternalError(ODataError):
    """An unexpected failure, answered in Gateway's shape instead of a traceback."""

    status = 500
    default_code = "/IWBEP/CM_MGW_RT/000"

    def __init__(self) -> None:
        super().__init__(
            "In the context of Data Services an unknown internal server error occurred"
        )


class AuthenticationError(SandboxError):
    """Missing or wrong credentials (401)."""


class CsrfTokenError(SandboxError):
    """A modifying request without a valid CSRF token and session cookie (403)."""


class SoapFaultError(SandboxError):
    """A SOAP request the journal entry service cannot read."""
