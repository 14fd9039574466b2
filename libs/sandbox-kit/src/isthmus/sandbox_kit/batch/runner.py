"""Running parsed ``$batch`` items against a sandbox's engine, in a dialect's rules."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from isthmus.sandbox_kit.batch.answer import (
    BatchAnswer,
    PartResponse,
    change_set_part,
    http_part,
    multipart,
    new_boundary,
)
from isthmus.sandbox_kit.batch.dialect import BatchDialect
from isthmus.sandbox_kit.batch.parts import BatchItem, ChangeSet, Part
from isthmus.sandbox_kit.batch.problems import BatchProblem, MalformedBatchError

_REFERENCE = re.compile(r"\$\d+")
_FAILED = 400


class BatchTarget(Protocol):
    """What a sandbox provides to run a batch: how one part is dispatched to its engine."""

    def execute(self, part: Part) -> PartResponse:
        """Answer one part (references already resolved), headers as written in the answer."""
        ...

    def change_set(self) -> AbstractContextManager[object]:
        """The atomic scope of one change set: an exception leaving it rolls the set back."""
        ...

    def refuse(self, problem: BatchProblem) -> PartResponse:
        """The error answer for a part or change set failed by ``problem``."""
        ...


class _RollbackError(Exception):
    def __init__(self, response: PartResponse) -> None:
        super().__init__(response.status)
        self.response = response


class BatchRunner:
    """Runs the items of one batch in order; remembers Content-IDs for later references."""

    def __init__(
        self, *, target: BatchTarget, dialect: BatchDialect, continue_on_error: bool = False
    ) -> None:
        self._target = target
        self._dialect = dialect
        self._continue = continue_on_error or not dialect.stops_at_first_failure
        self._ids: dict[str, str] = {}

    def run(self, items: Sequence[BatchItem]) -> BatchAnswer:
        """The multipart answer, one body part per item.

        Raises:
            MalformedBatchError: a top-level part changes data where the dialect forbids it.
        """
        boundary = new_boundary(self._dialect.batch_boundary_prefix)
        written: list[bytes] = []
        status = self._dialect.answer_status
        for item in items:
            if isinstance(item, ChangeSet):
                text, failed = self._change_set(item)
            else:
                if item.method != "GET" and not self._dialect.modifying_outside_change_set:
                    raise MalformedBatchError(BatchProblem("modifying_outside_change_set"))
                response = self._execute(item)
                text = http_part(response)
                failed = response if response.status >= _FAILED else None
            written.append(text)
            if failed is not None and not self._continue:
                status = failed.status
                break
        return BatchAnswer(status, boundary, multipart(boundary, written) + b"\r\n")

    def _change_set(self, change_set: ChangeSet) -> tuple[bytes, PartResponse | None]:
        written: list[bytes] = []
        try:
            with self._target.change_set():
                for part in change_set.parts:
                    if part.method == "GET":
                        raise _RollbackError(self._target.refuse(BatchProblem("get_in_change_set")))
                    response = self._execute(part)
                    if response.status >= _FAILED:
                        raise _RollbackError(response)
                    written.append(http_part(response, content_id=part.content_id))
        except _RollbackError as rollback:
            return http_part(rollback.response), rollback.response
        boundary = new_boundary(self._dialect.change_set_boundary_prefix)
        return change_set_part(boundary, written), None

    def _execute(self, part: Part) -> PartResponse:
        header = self._dialect.content_id_header
        if header is None:
            return self._target.execute(part)
        try:
            resolved = Part(
                part.method,
                self._resolve_url(part.url),
                part.headers,
                self._resolve_body(part.body),
                part.content_id,
            )
        except _UnknownContentIdError as unknown:
            return self._target.refuse(BatchProblem("unknown_content_id", unknown.content_id))
        response = self._target.execute(resolved)
        if part.content_id and response.status < 300:  # noqa: PLR2004
            self._ids[part.content_id] = response.headers.get(header) or ""
        return response

    def _reference(self, content_id: str) -> str:
        if content_id not in self._ids:
            raise _UnknownContentIdError(content_id)
        return self._ids[content_id]

    def _resolve_url(self, url: str) -> str:
        if not url.startswith("$"):
            return url
        content_id, _, tail = url[1:].partition("/")
        return self._reference(content_id) + (f"/{tail}" if tail else "")

    def _resolve_body(self, body: bytes) -> bytes:
        if b'"$' not in body:
            return body

        def walk(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list):
                return [walk(v) for v in value]
            if isinstance(value, str) and _REFERENCE.fullmatch(value):
                return self._reference(value[1:])
            return value

        return json.dumps(walk(json.loads(body))).encode()


class _UnknownContentIdError(Exception):
    def __init__(self, content_id: str) -> None:
        super().__init__(content_id)
        self.content_id = content_id
