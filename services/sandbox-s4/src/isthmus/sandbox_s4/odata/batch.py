"""SAP Gateway ``$batch``: each part dispatched to the OData engine, refusals in SAP's words."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from isthmus.sandbox_kit.batch.answer import PartResponse
from isthmus.sandbox_kit.batch.dialect import SAP_GATEWAY_V2
from isthmus.sandbox_kit.batch.parts import Part, parse_batch
from isthmus.sandbox_kit.batch.problems import BatchProblem, MalformedBatchError, ProblemKind
from isthmus.sandbox_kit.batch.runner import BatchRunner
from isthmus.sandbox_s4.errors import MalformedRequestError
from isthmus.sandbox_s4.odata.engine import ODataEngine
from isthmus.sandbox_s4.odata.wire import ODataRequest, ODataResponse

_SYNTAX_CODE = "/IWBEP/CM_MGW_RT/036"
_NO_BOUNDARY = "Batch request has no multipart boundary"
_MESSAGES: dict[ProblemKind, tuple[str, str | None]] = {
    "no_boundary": (_NO_BOUNDARY, _SYNTAX_CODE),
    "change_set_without_boundary": (_NO_BOUNDARY, _SYNTAX_CODE),
    "bad_request_line": ("Invalid request line in batch part", _SYNTAX_CODE),
    "too_many_requests": ("Too many requests in batch", _SYNTAX_CODE),
    "modifying_outside_change_set": ("Modifying requests must be inside a change set", None),
    "get_in_change_set": ("GET is not allowed inside a change set", None),
    "unknown_content_id": ("Content-ID reference {detail} not found in batch", None),
}


def batch_error(problem: BatchProblem) -> MalformedRequestError:
    """The error SAP Gateway answers for a refused batch, change set or part."""
    message, code = _MESSAGES[problem.kind]
    return MalformedRequestError(message.format(detail=problem.detail), code=code)


def _part_response(response: ODataResponse) -> PartResponse:
    headers = {**response.headers, "Content-Length": str(len(response.body))}
    return PartResponse(response.status, headers, response.body)


class EngineParts:
    """Dispatches the parts of one ``$batch`` request to the OData engine."""

    def __init__(self, *, engine: ODataEngine, request: ODataRequest) -> None:
        self._engine = engine
        self._request = request
        self._deferred: list[tuple[str, str, dict[str, Any]]] | None = None

    def execute(self, part: Part) -> PartResponse:
        """One part as an OData request of the batch's service and user."""
        path, params = part.path_and_query()
        path = path.lstrip("/")
        request = ODataRequest(
            method=part.method,
            service=self._request.service,
            segments=path.split("/") if path else [],
            params=params,
            headers=part.headers,
            body=part.body,
            service_root=self._request.service_root,
            user=self._request.user,
            in_batch=True,
        )
        return _part_response(self._engine.handle(request, deferred=self._deferred))

    @contextmanager
    def change_set(self) -> Iterator[None]:
        """One transaction; its events go to the bus only after the whole set commits."""
        deferred: list[tuple[str, str, dict[str, Any]]] = []
        self._deferred = deferred
        try:
            with self._engine.store.transaction():
                yield
        finally:
            self._deferred = None
        self._engine.bus.publish(events=deferred)

    def refuse(self, problem: BatchProblem) -> PartResponse:
        """The SAP error answer (JSON) for a failed part or change set."""
        error = batch_error(problem)
        return _part_response(
            self._engine.error_response(error, request=self._request, wants_json=True)
        )


class BatchProcessor:
    """Runs ``$batch`` requests against the engine."""

    def __init__(self, *, engine: ODataEngine) -> None:
        self.engine = engine

    def run(self, *, request: ODataRequest) -> ODataResponse:
        """Answer a `$batch` request with 202 and one response part per request part.

        Raises:
            MalformedRequestError: the batch body cannot be parsed, or a top-level part
                changes data.
        """
        try:
            items = parse_batch(
                body=request.body.decode("utf-8", errors="replace").encode(),
                content_type=request.header("content-type") or "",
                dialect=SAP_GATEWAY_V2,
            )
            answer = BatchRunner(
                target=EngineParts(engine=self.engine, request=request), dialect=SAP_GATEWAY_V2
            ).run(items)
        except MalformedBatchError as error:
            raise batch_error(error.problem) from error
        headers = {"content-type": answer.content_type, "dataserviceversion": "2.0"}
        return ODataResponse(answer.status, headers, answer.body)
