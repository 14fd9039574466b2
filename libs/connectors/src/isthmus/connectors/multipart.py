"""OData ``$batch`` bodies: build multipart/mixed requests and parse multipart responses.

Dataverse (OData 4.0) and SAP Gateway (OData 2.0) share the MIME structure: top-level parts are
single ``application/http`` requests or nested ``multipart/mixed`` change sets; lines end in CRLF.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from isthmus.connectors.errors import UnexpectedResponseError

CRLF = "\r\n"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass(frozen=True)
class BatchOperation:
    """One request inside a batch; ``url`` is as the target expects it inside a part."""

    method: str
    url: str
    body: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content_id: str | None = None


@dataclass(frozen=True)
class ChangeSet:
    """Operations the target applies atomically: all or none."""

    operations: Sequence[BatchOperation]


BatchPart = BatchOperation | ChangeSet


@dataclass(frozen=True)
class PartResponse:
    """The answer to one operation (or one error answer for a whole failed change set)."""

    status: int
    headers: dict[str, str]
    body: str
    content_id: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body.strip() else None


def build_batch(parts: Sequence[BatchPart], *, boundary: str | None = None) -> tuple[str, bytes]:
    """Return the ``Content-Type`` header value and body of a batch request."""
    boundary = boundary or f"batch_{uuid.uuid4()}"
    chunks: list[str] = []
    for part in parts:
        chunks.append(f"--{boundary}{CRLF}")
        if isinstance(part, ChangeSet):
            inner = f"changeset_{uuid.uuid4()}"
            chunks.append(f"Content-Type: multipart/mixed; boundary={inner}{CRLF}{CRLF}")
            for operation in part.operations:
                chunks.append(f"--{inner}{CRLF}{_operation(operation)}{CRLF}")
            chunks.append(f"--{inner}--{CRLF}")
        else:
            chunks.append(f"{_operation(part)}{CRLF}")
    chunks.append(f"--{boundary}--{CRLF}")
    return f"multipart/mixed; boundary={boundary}", "".join(chunks).encode()


def _operation(op: BatchOperation) -> str:
    head = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if op.content_id is not None:
        head.append(f"Content-ID: {op.content_id}")
    lines = [*head, "", f"{op.method} {op.url} HTTP/1.1"]
    headers = dict(op.headers)
    body = ""
    if op.body is not None:
        headers.setdefault("Content-Type", "application/json")
        body = json.dumps(op.body, separators=(",", ":"))
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["", body]
    return CRLF.join(lines)


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart ``Content-Type``.

    Raises:
        UnexpectedResponseError: the header names no boundary.
    """
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise UnexpectedResponseError(f"no multipart boundary in {content_type!r}")
    return match.group(1)


def parse_batch(body: str, *, content_type: str) -> list[PartResponse]:
    """Flatten a batch response into one ``PartResponse`` per answered operation, in order."""
    responses: list[PartResponse] = []
    for headers, payload in _split(body, boundary_of(content_type)):
        part_type = headers.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            responses.extend(parse_batch(payload, content_type=part_type))
        else:
            responses.append(_http_response(payload, content_id=headers.get("content-id")))
    return responses


def _split(body: str, boundary: str) -> list[tuple[dict[str, str], str]]:
    text = body.replace("\r\n", "\n")
    delimiter = f"--{boundary}"
    segments = text.split(delimiter)[1:]
    parts: list[tuple[dict[str, str], str]] = []
    for segment in segments:
        if segment.startswith("--"):
            break
        head, _, payload = segment.lstrip("\n").partition("\n\n")
        parts.append((_headers(head.splitlines()), payload))
    return parts


def _headers(lines: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def _http_response(payload: str, *, content_id: str | None) -> PartResponse:
    head, _, body = payload.partition("\n\n")
    lines = head.splitlines()
    if not lines or not lines[0].startswith("HTTP/"):
        raise UnexpectedResponseError(f"batch part is not an HTTP response: {payload[:80]!r}")
    status = int(lines[0].split()[1])
    headers = _headers(lines[1:])
    return PartResponse(
        status=status,
        headers=headers,
        body=body.rstrip("\n"),
        content_id=content_id or headers.get("content-id"),
    )
