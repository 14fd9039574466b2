"""Dataverse ``$batch``: change sets, the 1000-request limit, per-part results."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx

from isthmus.connectors.d365.base import DataverseBase
from isthmus.connectors.d365.errors import DataverseError, classify, error_body
from isthmus.connectors.multipart import (
    BatchOperation,
    BatchPart,
    ChangeSet,
    PartResponse,
    build_batch,
    parse_batch,
)

MAX_BATCH_REQUESTS = 1000
_SAFE_METHODS = frozenset({"GET", "PATCH", "PUT", "DELETE"})


def part_size(part: BatchPart) -> int:
    """How many requests a part counts for against the batch limit."""
    return len(part.operations) if isinstance(part, ChangeSet) else 1


def chunk_parts(parts: Sequence[BatchPart], *, limit: int) -> Iterator[list[BatchPart]]:
    """Group parts into batches of at most ``limit`` requests; change sets are never split.

    Raises:
        ValueError: one change set alone exceeds ``limit`` (it must stay atomic).
    """
    chunk: list[BatchPart] = []
    size = 0
    for part in parts:
        n = part_size(part)
        if n > limit:
            raise ValueError(f"a change set of {n} requests exceeds the batch limit of {limit}")
        if size + n > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(part)
        size += n
    if chunk:
        yield chunk


def is_idempotent(parts: Sequence[BatchPart]) -> bool:
    """True when resending the batch cannot create anything twice (no POST inside)."""
    for part in parts:
        ops = part.operations if isinstance(part, ChangeSet) else [part]
        if any(op.method.upper() not in _SAFE_METHODS for op in ops):
            return False
    return True


@dataclass(frozen=True)
class BatchResult:
    """The answers of one or more ``$batch`` requests, in the order of the operations."""

    responses: list[PartResponse]

    @property
    def failures(self) -> list[PartResponse]:
        """Answers with an error status."""
        return [r for r in self.responses if r.status >= 400]  # noqa: PLR2004 - error statuses

    def errors(self) -> list[DataverseError]:
        """Each failed answer as its typed error."""
        return [part_error(r) for r in self.failures]

    def raise_for_errors(self) -> None:
        """Raise the first failed answer's typed error, if any.

        Raises:
            DataverseError: the first failure in the batch.
        """
        for error in self.errors():
            raise error


def part_error(response: PartResponse) -> DataverseError:
    """The typed error of one failed batch part."""
    code, message = error_body(response.body)
    retry_after = response.headers.get("retry-after")
    return classify(
        status=response.status,
        code=code,
        message=message or f"batch part failed with {response.status}",
        retry_after=float(retry_after) if retry_after else None,
    )


def batch_answered(response: httpx.Response) -> bool:
    """Whether the batch was processed: 200, or a 4xx whose multipart body holds the failed part.

    Without ``odata.continue-on-error`` Dataverse stops at the first failure and answers with
    that failure's status; the body still carries the part responses.
    """
    if response.status_code == 200:  # noqa: PLR2004 - OK
        return True
    multipart = response.headers.get("content-type", "").startswith("multipart/mixed")
    return multipart and 400 <= response.status_code < 500 and response.status_code != 429  # noqa: PLR2004


class BatchOperations(DataverseBase):
    """``$batch`` execution, split to the request limit."""

    def entity_path(self, entity_set_and_key: str) -> str:
        """A root-relative URL for a batch part, e.g. ``/api/data/v9.2/accounts(...)``."""
        return f"/api/data/{self.settings.api_version}/{entity_set_and_key}"

    async def batch(
        self, parts: Sequence[BatchPart], *, continue_on_error: bool = False
    ) -> BatchResult:
        """Execute ``parts`` in as many ``$batch`` requests as the configured size needs.

        Change sets are atomic: if one operation fails, none of that set is applied.

        Raises:
            DataverseError: a whole ``$batch`` request failed (not one part: see the result).
            ValueError: one change set is larger than the batch limit.
        """
        limit = min(self.settings.batch_size, MAX_BATCH_REQUESTS)
        responses: list[PartResponse] = []
        for chunk in chunk_parts(parts, limit=limit):
            responses.extend(await self._send_batch(chunk, continue_on_error=continue_on_error))
        return BatchResult(responses=responses)

    async def _send_batch(
        self, parts: Sequence[BatchPart], *, continue_on_error: bool
    ) -> list[PartResponse]:
        content_type, body = build_batch(parts)
        headers = {"Content-Type": content_type, "If-None-Match": "null"}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        response = await self._call(
            "POST",
            "$batch",
            template="$batch",
            content=body,
            headers=headers,
            ok=batch_answered,
            idempotent=is_idempotent(parts),
        )
        return parse_batch(response.text, content_type=response.headers["content-type"])


def upsert_operation(
    client: BatchOperations, *, entity_set: str, key: str, body: dict[str, object]
) -> BatchOperation:
    """A PATCH upsert of one row addressed by ``entity_set`` and a key segment."""
    return BatchOperation(method="PATCH", url=client.entity_path(f"{entity_set}{key}"), body=body)
