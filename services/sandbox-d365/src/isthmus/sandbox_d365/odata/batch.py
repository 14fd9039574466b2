"""Dataverse ``$batch``: each part dispatched to the Web API, refusals in Dataverse's words."""

from __future__ import annotations

import re
import uuid
from contextlib import AbstractContextManager

from isthmus.sandbox_d365.errors import QueryError
from isthmus.sandbox_d365.http.webapi import WebApi
from isthmus.sandbox_d365.odata.messages import ApiRequest, ApiResponse
from isthmus.sandbox_kit.batch.answer import PartResponse
from isthmus.sandbox_kit.batch.dialect import DATAVERSE_V4
from isthmus.sandbox_kit.batch.parts import Part, parse_batch
from isthmus.sandbox_kit.batch.problems import BatchProblem, MalformedBatchError, ProblemKind
from isthmus.sandbox_kit.batch.runner import BatchRunner

_VERSION = re.compile(r"^/?api/data/v9\.[0-2]/?")
_BAD_REQUEST_LINE = "The batch part does not contain a valid HTTP request line."
_MESSAGES: dict[ProblemKind, str] = {
    "no_boundary": "The batch request must have a multipart/mixed Content-Type with a boundary.",
    "change_set_without_boundary": _BAD_REQUEST_LINE,
    "bad_request_line": _BAD_REQUEST_LINE,
    "too_many_requests": (
        "The number of requests in the batch ({detail}) exceeds the limit of "
        f"{DATAVERSE_V4.max_requests}."
    ),
    "modifying_outside_change_set": "Modifying requests must be inside a change set.",
    "get_in_change_set": "GET requests are not allowed inside a change set.",
    "unknown_content_id": (
        "Content-ID Reference: '${detail}' does not exist in the batch context."
    ),
}


def batch_error(problem: BatchProblem) -> QueryError:
    """The error Dataverse answers for a refused batch, change set or part."""
    return QueryError(_MESSAGES[problem.kind].format(detail=problem.detail))


def _part_response(response: ApiResponse) -> PartResponse:
    headers = {**response.headers, "REQ_ID": str(uuid.uuid4())}
    if "OData-EntityId" in headers:
        headers.setdefault("Location", headers["OData-EntityId"])
    return PartResponse(response.status, headers, response.body)


class WebApiParts:
    """Dispatches the parts of one ``$batch`` request to the Web API."""

    def __init__(self, *, api: WebApi, request: ApiRequest) -> None:
        self._api = api
        self._request = request

    def execute(self, part: Part) -> PartResponse:
        """One part as a Web API request with the batch's caller and ``Prefer`` header."""
        path, query = part.path_and_query()
        if path.startswith(("/", "api/")):
            path = _VERSION.sub("", path)
        sub = ApiRequest(
            method=part.method,
            path=path,
            query=query,
            headers={
                **{k: v for k, v in self._request.headers.items() if k in ("prefer",)},
                **part.headers,
            },
            body=part.body,
            base=self._request.base,
            user_id=self._request.user_id,
        )
        return _part_response(self._api.handle(sub))

    def change_set(self) -> AbstractContextManager[object]:
        """A change set is one savepoint of the store."""
        return self._api.records.store.transaction()

    def refuse(self, problem: BatchProblem) -> PartResponse:
        """The Dataverse error answer for a failed part or change set."""
        return _part_response(ApiResponse.of_error(batch_error(problem)))


def run_batch(*, api: WebApi, request: ApiRequest) -> ApiResponse:
    """Answer a ``$batch``: stops at the first failure unless ``odata.continue-on-error``."""
    try:
        items = parse_batch(
            body=request.body,
            content_type=request.header("content-type") or "",
            dialect=DATAVERSE_V4,
        )
        answer = BatchRunner(
            target=WebApiParts(api=api, request=request),
            dialect=DATAVERSE_V4,
            continue_on_error="odata.continue-on-error" in request.prefer(),
        ).run(items)
    except MalformedBatchError as error:
        return ApiResponse.of_error(batch_error(error.problem))
    headers = {"OData-Version": "4.0", "Content-Type": answer.content_type}
    return ApiResponse(answer.status, headers, answer.body)
