"""Errors the sandbox answers with, shaped like Dataverse and Entra ID errors.

::

    SandboxError
    ├── DataverseError         Web API error: HTTP status + {"error": {"code", "message"}}
    │   ├── NotFoundError      404, 0x80040217 (row or key does not exist)
    │   ├── PreconditionError  412 (ETag mismatch, If-None-Match: *, duplicate key)
    │   └── QueryError         400, 0x80060888 (bad URL, query option or payload shape)
    └── EntraError             token endpoint error: {"error", "error_description", ...}
"""

from __future__ import annotations

from collections.abc import Mapping

OBJECT_DOES_NOT_EXIST = "0x80040217"
DUPLICATE_RECORD = "0x80040237"
DUPLICATE_KEY = "0x80060892"
VALIDATION = "0x80044331"
INVALID_ARGUMENT = "0x80040203"
BAD_QUERY = "0x80060888"
NOT_MEMBER = "0x80072560"
ISV_ABORTED = "0x80040265"


class SandboxError(Exception):
    """Root of every error the sandbox turns into an HTTP answer."""


class DataverseError(SandboxError):
    """A Web API error answered as ``{"error": {"code": ..., "message": ...}}``."""

    def __init__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        """The JSON body Dataverse sends for this error."""
        return {"error": {"code": self.code, "message": self.message}}


class NotFoundError(DataverseError):
    """A row, key or resource that does not exist (404)."""

    def __init__(self, message: str, *, code: str = OBJECT_DOES_NOT_EXIST) -> None:
        super().__init__(status=404, code=code, message=message)


class PreconditionError(DataverseError):
    """A failed If-Match/If-None-Match or a duplicate key (412)."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(status=412, code=code, message=message)


class QueryError(DataverseError):
    """A request Dataverse rejects before touching data (400, ``0x80060888``)."""

    def __init__(self, message: str, *, code: str = BAD_QUERY) -> None:
        super().__init__(status=400, code=code, message=message)


class EntraError(SandboxError):
    """An OAuth error of the token endpoint, with its AADSTS code."""

    def __init__(self, *, status: int, error: str, aadsts: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.aadsts = aadsts
        self.description = description
