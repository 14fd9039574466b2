"""Writing the multipart/mixed answer of a ``$batch``."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus


@dataclass
class PartResponse:
    """The answer to one embedded request, with the headers it is written with."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass(frozen=True)
class BatchAnswer:
    """The outer answer: its status and the multipart/mixed body with its boundary."""

    status: int
    boundary: str
    body: bytes

    @property
    def content_type(self) -> str:
        """The answer's Content-Type, boundary included."""
        return f"multipart/mixed; boundary={self.boundary}"


def new_boundary(prefix: str) -> str:
    """A fresh boundary starting with ``prefix``."""
    return f"{prefix}{uuid.uuid4()}"


def _reason(status: int) -> str:
    return HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""


def http_part(response: PartResponse, *, content_id: str | None = None) -> bytes:
    """One ``application/http`` body part holding an HTTP response."""
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    head += f"\r\nHTTP/1.1 {response.status} {_reason(response.status)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in response.headers.items())
    return f"{head}\r\n".encode() + response.body


def multipart(boundary: str, parts: list[bytes]) -> bytes:
    """Body parts between ``--boundary`` delimiters, closed by ``--boundary--``."""
    opening = f"--{boundary}\r\n".encode()
    return b"".join(opening + p + b"\r\n" for p in parts) + f"--{boundary}--".encode()


def change_set_part(boundary: str, parts: list[bytes]) -> bytes:
    """A nested multipart/mixed body part answering a change set."""
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    return head + multipart(boundary, parts)
