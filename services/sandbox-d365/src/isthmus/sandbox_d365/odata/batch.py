"""``$batch``: multipart/mixed parsing, atomic change sets, Content-ID references."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from isthmus.sandbox_d365.errors import DataverseError, QueryError
from isthmus.sandbox_d365.http.webapi import WebApi
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse

MAX_PARTS = 1000
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_VERSION = re.compile(r"^/?api/data/v9\.[0-2]/?")


@dataclass
class Part:
    """One HTTP request inside the batch."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    """Parts that succeed or fail together."""

    parts: list[Part] = field(default_factory=list)


class _AbortError(Exception):
    def __init__(self, response: ApiResponse) -> None:
        super().__init__("change set failed")
        self.response = response


def _split(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        parts.append(chunk.strip(b"\r\n"))
    return parts


def _headers_and_rest(block: bytes) -> tuple[dict[str, str], bytes]:
    block = block.replace(b"\r\n", b"\n")
    head, _, rest = block.partition(b"\n\n")
    headers = {}
    for line in head.decode("utf-8", "replace").split("\n"):
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _request_part(block: bytes) -> Part:
    outer, inner = _headers_and_rest(block)
    request_line, _, remainder = inner.replace(b"\r\n", b"\n").partition(b"\n")
    words = request_line.decode().split()
    if len(words) < 2:  # noqa: PLR2004 - METHOD URL [VERSION]
        raise QueryError("The batch part does not contain a valid HTTP request line.")
    headers: dict[str, str] = {}
    if remainder.startswith(b"\n") or not remainder.strip():
        body = remainder[1:]
    else:
        headers, body = _headers_and_rest(remainder)
    return Part(words[0].upper(), words[1], headers, body.strip(), outer.get("content-id"))


def parse_batch(body: bytes, content_type: str) -> list[Part | ChangeSet]:
    """The parts and change sets of a ``$batch`` body.

    Raises:
        QueryError: no boundary, malformed parts or more than 1000 requests.
    """
    found = _BOUNDARY.search(content_type or "")
    if found is None:
        raise QueryError(
            "The batch request must have a multipart/mixed Content-Type with a boundary."
        )
    items: list[Part | ChangeSet] = []
    count = 0
    for block in _split(body, found.group(1)):
        headers, rest = _headers_and_rest(block)
        inner = _BOUNDARY.search(headers.get("content-type", ""))
        if headers.get("content-type", "").startswith("multipart/mixed") and inner:
            change_set = ChangeSet([_request_part(p) for p in _split(rest, inner.group(1))])
            count += len(change_set.parts)
            items.append(change_set)
        else:
            items.append(_request_part(block))
            count += 1
    if count > MAX_PARTS:
        raise QueryError(
            f"The number of requests in the batch ({count}) exceeds the limit of {MAX_PARTS}."
        )
    return items


class BatchRunner:
    """Executes a parsed batch against the Web API."""

    def __init__(self, *, api: WebApi, request: ApiRequest) -> None:
        self._api = api
        self._request = request
        self._ids: dict[str, str] = {}
        self._continue = "odata.continue-on-error" in request.prefer()

    def run(self, items: list[Part | ChangeSet]) -> ApiResponse:
        """Execute in order; stop at the first failure unless continue-on-error."""
        rendered: list[str] = []
        boundary = f"batchresponse_{uuid.uuid4()}"
        for item in items:
            if isinstance(item, ChangeSet):
                text, failed = self._change_set(item)
            else:
                if item.method != "GET" and not item.url:
                    raise QueryError("Empty batch part.")
                response = self._execute(item)
                text, failed = _render(response), response if response.status >= 400 else None  # noqa: PLR2004
            rendered.append(text)
            if failed is not None and not self._continue:
                return _multipart(failed.status, boundary, rendered)
        return _multipart(200, boundary, rendered)

    def _change_set(self, change_set: ChangeSet) -> tuple[str, ApiResponse | None]:
        boundary = f"changesetresponse_{uuid.uuid4()}"
        responses: list[str] = []
        try:
            with self._api.records.store.transaction():
                for part in change_set.parts:
                    if part.method == "GET":
                        raise _AbortError(
                            ApiResponse.of_error(
                                QueryError("GET requests are not allowed inside a change set.")
                            )
                        )
                    response = self._execute(part)
                    if response.status >= 400:  # noqa: PLR2004
                        raise _AbortError(response)
                    responses.append(_render(response, content_id=part.content_id))
        except _AbortError as abort:
            return _render(abort.response), abort.response
        body = "".join(f"--{boundary}\r\n{r}" for r in responses) + f"--{boundary}--\r\n"
        return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{body}", None

    def _execute(self, part: Part) -> ApiResponse:
        try:
            path, query = self._target(part.url)
            body = self._substitute(part.body)
        except DataverseError as error:
            return ApiResponse.of_error(error)
        sub = ApiRequest(
            method=part.method,
            path=path,
            query=query,
            headers={
                **{k: v for k, v in self._request.headers.items() if k in ("prefer",)},
                **part.headers,
            },
            body=body,
            base=self._request.base,
            user_id=self._request.user_id,
        )
        response = self._api.handle(sub)
        entity_id = response.headers.get("OData-EntityId")
        if part.content_id and response.status < 300:  # noqa: PLR2004
            self._ids[part.content_id] = entity_id or ""
        return response

    def _target(self, url: str) -> tuple[str, dict[str, str]]:
        if url.startswith("$"):
            ref, _, tail = url[1:].partition("/")
            base_url = self._reference(ref)
            url = base_url + (f"/{tail}" if tail else "")
        parts = urlsplit(url)
        path = _VERSION.sub("", parts.path) if parts.path.startswith(("/", "api/")) else parts.path
        return path, dict(parse_qsl(parts.query, keep_blank_values=True))

    def _reference(self, content_id: str) -> str:
        if content_id not in self._ids:
            raise QueryError(
                f"Content-ID Reference: '${content_id}' does not exist in the batch context."
            )
        return self._ids[content_id]

    def _substitute(self, body: bytes) -> bytes:
        if b'"$' not in body:
            return body
        data = json.loads(body)

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, str) and re.fullmatch(r"\$\d+", value):
                return self._reference(value[1:])
            return value

        return json.dumps(walk(data)).encode()


def _render(response: ApiResponse, *, content_id: str | None = None) -> str:
    reason = HTTPStatus(response.status).phrase
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    headers = {**response.headers, "REQ_ID": str(uuid.uuid4())}
    if "OData-EntityId" in headers:
        headers.setdefault("Location", headers["OData-EntityId"])
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"{head}\r\nHTTP/1.1 {response.status} {reason}\r\n{lines}\r\n{response.body.decode()}\r\n"
    )


def _multipart(status: int, boundary: str, parts: list[str]) -> ApiResponse:
    body = "".join(f"--{boundary}\r\n{p}" for p in parts) + f"--{boundary}--\r\n"
    headers = {"OData-Version": "4.0", "Content-Type": f"multipart/mixed; boundary={boundary}"}
    return ApiResponse(status, headers, body.encode())
