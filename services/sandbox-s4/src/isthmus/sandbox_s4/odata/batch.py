"""OData V2 `$batch`: multipart/mixed parsing, atomic change sets, 202 multipart answers."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.engine import ODataEngine
from isthmus.sandbox_s4.odata.wire import ODataRequest, ODataResponse

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_LINES = re.compile(r"\r?\n")
_BLANK = re.compile(r"\r?\n\r?\n")


@dataclass
class Part:
    """One `application/http` part: an embedded request."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    """Parts that succeed or fail together."""

    parts: list[Part] = field(default_factory=list)


def boundary_of(content_type: str) -> str:
    """The boundary parameter of a multipart content type.

    Raises:
        MalformedRequestError: no boundary.
    """
    match = _BOUNDARY.search(content_type or "")
    if match is None:
        raise MalformedRequestError(
            "Batch request has no multipart boundary", code="/IWBEP/CM_MGW_RT/036"
        )
    return match.group(1)


def _split(body: str, boundary: str) -> list[str]:
    chunks = re.split(rf"(?:^|\r?\n)--{re.escape(boundary)}(?:--)?[ \t]*(?=\r?\n|$)", body)
    return [c.lstrip("\r\n") for c in chunks[1:] if c.strip() not in {"", "--"}]


def _headers_and_rest(text: str) -> tuple[dict[str, str], str]:
    match = _BLANK.search(text)
    head, rest = (text, "") if match is None else (text[: match.start()], text[match.end() :])
    headers = {}
    for line in _LINES.split(head):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _part(text: str) -> Part:
    mime, http = _headers_and_rest(text)
    request_line, _, remainder = http.partition("\n")
    pieces = request_line.strip().split(" ")
    if len(pieces) < 2:  # noqa: PLR2004
        raise MalformedRequestError(
            "Invalid request line in batch part", code="/IWBEP/CM_MGW_RT/036"
        )
    headers, body = _headers_and_rest(remainder)
    return Part(
        pieces[0].upper(), pieces[1], headers, body.rstrip("\r\n").encode(), mime.get("content-id")
    )


def parse_batch(*, body: bytes, content_type: str) -> list[Part | ChangeSet]:
    """The top-level parts of a batch: retrieve parts and change sets.

    Raises:
        MalformedRequestError: the body is not a valid multipart batch.
    """
    text = body.decode("utf-8", errors="replace")
    items: list[Part | ChangeSet] = []
    for chunk in _split(text, boundary_of(content_type)):
        mime, rest = _headers_and_rest(chunk)
        if mime.get("content-type", "").lower().startswith("multipart/mixed"):
            inner = _split(rest, boundary_of(mime["content-type"]))
            items.append(ChangeSet([_part(c) for c in inner]))
        else:
            items.append(_part(chunk))
    return items


def _http(response: ODataResponse, content_id: str | None = None) -> str:
    reason = (
        HTTPStatus(response.status).phrase
        if response.status in HTTPStatus._value2member_map_
        else ""
    )
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {response.status} {reason}"]
    body = response.body.decode("utf-8", errors="replace")
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    lines += [f"Content-Length: {len(response.body)}", "", body]
    return "\r\n".join(lines)


class BatchProcessor:
    """Runs the parts of a batch against the engine."""

    def __init__(self, *, engine: ODataEngine) -> None:
        self.engine = engine

    def _request(self, template: ODataRequest, part: Part) -> ODataRequest:
        url = urlsplit(part.url)
        path = url.path.lstrip("/")
        return ODataRequest(
            method=part.method,
            service=template.service,
            segments=path.split("/") if path else [],
            params=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=part.headers,
            body=part.body,
            service_root=template.service_root,
            user=template.user,
            in_batch=True,
        )

    def run(self, *, request: ODataRequest) -> ODataResponse:
        """Answer a `$batch` request with 202 and one response part per request part.

        Raises:
            MalformedRequestError: the batch body cannot be parsed.
        """
        items = parse_batch(body=request.body, content_type=request.header("content-type") or "")
        boundary = f"batch_{uuid.uuid4()}"
        chunks = []
        for item in items:
            if isinstance(item, Part):
                if item.method != "GET":
                    raise MalformedRequestError("Modifying requests must be inside a change set")
                chunks.append(_http(self.engine.handle(self._request(request, item))))
            else:
                chunks.append(self._changeset(request, item))
        body = "".join(f"--{boundary}\r\n{chunk}\r\n" for chunk in chunks) + f"--{boundary}--\r\n"
        return ODataResponse(
            202,
            {"content-type": f"multipart/mixed; boundary={boundary}", "dataserviceversion": "2.0"},
            body.encode(),
        )

    def _changeset(self, template: ODataRequest, changeset: ChangeSet) -> str:
        deferred: list[tuple[str, str, dict[str, Any]]] = []
        responses: list[tuple[ODataResponse, str | None]] = []
        failure: ODataResponse | None = None
        try:
            with self.engine.store.transaction():
                for part in changeset.parts:
                    if part.method == "GET":
                        raise MalformedRequestError("GET is not allowed inside a change set")
                    response = self.engine.handle(self._request(template, part), deferred=deferred)
                    if response.status >= 400:  # noqa: PLR2004
                        failure = response
                        raise _RollbackError
                    responses.append((response, part.content_id))
        except _RollbackError:
            return _http(failure) if failure else ""
        except MalformedRequestError as error:
            return _http(self.engine.error_response(error, request=template, wants_json=True))
        self.engine.bus.publish(events=deferred)
        inner = f"changeset_{uuid.uuid4()}"
        parts = "".join(f"--{inner}\r\n{_http(r, cid)}\r\n" for r, cid in responses)
        return f"Content-Type: multipart/mixed; boundary={inner}\r\n\r\n{parts}--{inner}--"


class _RollbackError(Exception):
    """Internal: unwinds a change set whose operation failed."""
