"""Reading a multipart/mixed ``$batch`` body into requests and change sets."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

from isthmus.sandbox_kit.batch.dialect import BatchDialect
from isthmus.sandbox_kit.batch.problems import BatchProblem, MalformedBatchError

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_LINE_BREAK = re.compile(rb"\r?\n")


@dataclass
class Part:
    """One ``application/http`` part: an embedded HTTP request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None

    def path_and_query(self) -> tuple[str, dict[str, str]]:
        """The URL's path and its query options (blank values kept)."""
        url = urlsplit(self.url)
        return url.path, dict(parse_qsl(url.query, keep_blank_values=True))


@dataclass
class ChangeSet:
    """Parts that succeed or fail together."""

    parts: list[Part] = field(default_factory=list)


BatchItem = Part | ChangeSet


def boundary_of(content_type: str) -> str | None:
    """The boundary parameter of a multipart content type, if it has one."""
    found = _BOUNDARY.search(content_type or "")
    return None if found is None else found.group(1)


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The body parts between the delimiters; preamble and epilogue dropped.

    A delimiter is ``--boundary`` at the start of a line; the close delimiter
    ``--boundary--`` ends the parts.
    """
    delimiter = re.compile(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode()) + rb"(--)?[ \t]*(?=\r?\n|$)"
    )
    chunks: list[bytes] = []
    start: int | None = None
    for found in delimiter.finditer(body):
        if start is not None:
            chunks.append(body[start : found.start()].lstrip(b"\r\n"))
        if found.group(1):
            break
        start = found.end()
    return chunks


def headers_and_rest(block: bytes) -> tuple[dict[str, str], bytes]:
    """The header lines up to the first blank line (names lower-cased), and what follows."""
    found = _BLANK_LINE.search(block)
    head, rest = (block, b"") if found is None else (block[: found.start()], block[found.end() :])
    headers = {}
    for line in _LINE_BREAK.split(head):
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _request_part(block: bytes, dialect: BatchDialect) -> Part:
    mime, http = headers_and_rest(block)
    request_line, _, remainder = http.partition(b"\n")
    words = request_line.decode("utf-8", "replace").split()
    if len(words) < 2:  # noqa: PLR2004 - METHOD URL [VERSION]
        raise MalformedBatchError(BatchProblem("bad_request_line"))
    headers: dict[str, str] = {}
    if remainder.startswith((b"\r\n", b"\n")) or not remainder.strip():
        body = remainder.partition(b"\n")[2]
    else:
        headers, body = headers_and_rest(remainder)
    body = body.strip() if dialect.strip_body_whitespace else body.rstrip(b"\r\n")
    return Part(words[0].upper(), words[1], headers, body, mime.get("content-id"))


def parse_batch(*, body: bytes, content_type: str, dialect: BatchDialect) -> list[BatchItem]:
    """The top-level items of a ``$batch`` body: request parts and change sets.

    Raises:
        MalformedBatchError: no boundary, a change set without one, a part without a request
            line, or more requests than ``dialect.max_requests``.
    """
    boundary = boundary_of(content_type)
    if boundary is None:
        raise MalformedBatchError(BatchProblem("no_boundary"))
    items: list[BatchItem] = []
    count = 0
    for block in split_multipart(body, boundary):
        mime, rest = headers_and_rest(block)
        part_type = mime.get("content-type", "")
        if part_type.lower().startswith("multipart/mixed"):
            inner = boundary_of(part_type)
            if inner is None:
                raise MalformedBatchError(BatchProblem("change_set_without_boundary"))
            change_set = ChangeSet(
                [_request_part(p, dialect) for p in split_multipart(rest, inner)]
            )
            count += len(change_set.parts)
            items.append(change_set)
        else:
            items.append(_request_part(block, dialect))
            count += 1
    if dialect.max_requests is not None and count > dialect.max_requests:
        raise MalformedBatchError(BatchProblem("too_many_requests", str(count)))
    return items
