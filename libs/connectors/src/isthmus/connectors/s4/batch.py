"""S/4HANA ``$batch`` parts and answers: reads and one-create change sets, typed per answer.

SAP Gateway runs each change set as its own LUW: a change set with one create fails alone and
is answered by one error part, while the other change sets and reads of the batch still run.
So a batch of ``N`` parts (reads or one-operation change sets) has ``N`` answers, in order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from isthmus.connectors.multipart import BatchOperation, ChangeSet, PartResponse
from isthmus.connectors.s4.errors import S4Error, S4UnexpectedError, classify, parse_error_body
from isthmus.connectors.s4.odata import (
    EntityKey,
    S4Entity,
    key_predicate,
    query_options,
    sap_messages_of,
)

_JSON = {"Accept": "application/json"}


def query_part(
    entity_set: str,
    *,
    filter: str | None = None,
    select: Sequence[str] | None = None,
    top: int | None = None,
) -> BatchOperation:
    """A collection read inside a batch (query options percent-encoded: no spaces in the line)."""
    params = query_options(filter=filter, select=select, top=top)
    query = urlencode(params, quote_via=quote, safe="$',()")
    return BatchOperation("GET", f"{entity_set}?{query}" if query else entity_set, headers=_JSON)


def read_part(entity_set: str, key: EntityKey) -> BatchOperation:
    """A single-entity read inside a batch."""
    url = quote(f"{entity_set}{key_predicate(key)}", safe="$',()=")
    return BatchOperation("GET", url, headers=_JSON)


def create_changeset(entity_set: str, body: Mapping[str, Any]) -> ChangeSet:
    """A change set of one create (deep insert), atomic on its own."""
    return ChangeSet([BatchOperation("POST", entity_set, body=dict(body), headers=_JSON)])


@dataclass(frozen=True)
class S4BatchResult:
    """Answers of one ``$batch``; a failed change set is answered by one error part."""

    responses: list[PartResponse]

    def errors(self) -> list[S4Error]:
        """Each failed answer as its typed error."""
        return [e for e in (self.error_at(i) for i in range(len(self.responses))) if e]

    def raise_for_errors(self) -> None:
        """Raise the first failed answer's error, if any.

        Raises:
            S4Error: the first failure in the batch.
        """
        for error in self.errors():
            raise error

    def error_at(self, index: int) -> S4Error | None:
        """The typed error of answer ``index``, or None when it succeeded."""
        part = self.responses[index]
        if part.status < 400:  # noqa: PLR2004 - error statuses
            return None
        code, message, details = parse_error_body(part.body)
        return classify(status=part.status, code=code, message=message, details=details)

    def entity_at(self, index: int) -> S4Entity:
        """The entity of a successful single-entity answer (a create's 201, a read's 200).

        Raises:
            S4Error: the answer is an error (its typed error).
            S4UnexpectedError: the answer is not an OData V2 entity.
        """
        part = self._ok(index)
        payload = _d(part)
        if not isinstance(payload, dict) or "results" in payload:
            raise S4UnexpectedError("batch answer is not an entity", status=part.status)
        data = dict(payload)
        metadata = data.pop("__metadata", None) or {}
        etag = part.headers.get("etag") or metadata.get("etag")
        return S4Entity(data=data, etag=etag, messages=sap_messages_of(part.headers))

    def entities_at(self, index: int) -> list[S4Entity]:
        """The entities of a successful collection answer, each with its ETag.

        Raises:
            S4Error: the answer is an error (its typed error).
            S4UnexpectedError: the answer is not an OData V2 collection.
        """
        part = self._ok(index)
        payload = _d(part)
        rows = payload.get("results") if isinstance(payload, dict) else payload
        if not isinstance(rows, list):
            raise S4UnexpectedError("batch answer is not a collection", status=part.status)
        found = []
        for row in rows:
            data = dict(row)
            metadata = data.pop("__metadata", None) or {}
            found.append(S4Entity(data=data, etag=metadata.get("etag")))
        return found

    def _ok(self, index: int) -> PartResponse:
        error = self.error_at(index)
        if error is not None:
            raise error
        return self.responses[index]


def _d(part: PartResponse) -> Any:
    try:
        return part.json()["d"]
    except (ValueError, KeyError, TypeError) as exc:
        raise S4UnexpectedError("batch answer is not OData V2 JSON", status=part.status) from exc
