"""Invoices with their lines: one change set per invoice, lines upserted under derived GUIDs."""

from __future__ import annotations

from isthmus.connectors.d365.batch import BatchResult, part_error
from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.d365.errors import DataverseNotFoundError
from isthmus.connectors.d365.keys import key_segment
from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.multipart import BatchOperation, ChangeSet, PartResponse
from isthmus.d365_sink.core import payloads as p
from isthmus.sink.errors import from_connector
from isthmus.sink.model import Outcome, ResultStatus, Success

_CREATE_ONLY = frozenset({"transactioncurrencyid@odata.bind"})
_PRECONDITION_FAILED = 412


class InvoiceWriter:
    """Writes an invoice and its lines atomically; a redelivery updates the same rows.

    The invoice is upserted by its alternate key. Its lines are read first: a line whose GUID
    exists is updated (``If-Match: *``), a new one is created under its GUID with the columns
    valid only for create (the invoice bind). All of it is one change set, so an invoice never
    shows half of its lines.

    Creates are conditional (``If-None-Match: *``). The client resends a ``$batch`` of PATCHes
    whose answer was lost, and that resend meets the rows the lost attempt created: its change
    set fails with 412. The writer then reads the lines again and writes once more, as updates.
    """

    def __init__(self, *, client: DataverseClient) -> None:
        self._client = client

    async def write(self, write: p.Write) -> Outcome:
        """Write ``write`` (an invoice with ``lines``); failures are returned."""
        try:
            answer = await self._send(write)
            if _precondition_failed(answer.failures):  # rows made since the read: read again
                answer = await self._send(write)
        except ConnectorError as exc:
            return from_connector(exc)
        if answer.failures:
            return from_connector(part_error(answer.failures[0]))
        entity_url = answer.responses[0].headers.get("odata-entityid", "")
        target = entity_url.rsplit("(", 1)[-1].rstrip(")") if entity_url else None
        return Success(
            status=ResultStatus.SUCCEEDED,
            target_id=target,
            target_ids={"invoices": target} if target else {},
            state_key=write.state_key,
            state_fields=p.state_fields(write),
            message=f"{len(write.lines)} lines",
            http_status=answer.responses[0].status,
        )

    async def _send(self, write: p.Write) -> BatchResult:
        existing = await self._line_ids(write)
        operations = [self._header(write, exists=existing is not None)]
        operations += [
            self._operation(line, create_only=line.state_key not in (existing or ()))
            for line in write.lines
        ]
        return await self._client.batch([ChangeSet(operations)])

    async def _line_ids(self, write: p.Write) -> set[str] | None:
        """The GUIDs of the invoice's lines; None when the invoice does not exist yet."""
        expand = "invoice_details($select=invoicedetailid)"
        try:
            record = await self._client.retrieve(
                write.entity_set, write.key, select=["invoiceid"], expand=expand
            )
        except DataverseNotFoundError:
            return None
        return {str(row["invoicedetailid"]) for row in record.data.get("invoice_details") or []}

    def _header(self, write: p.Write, *, exists: bool) -> BatchOperation:
        """Upsert of the invoice by its alternate key; its currency is valid for create only."""
        url = self._client.entity_path(f"{write.entity_set}{key_segment(write.key)}")
        if exists:
            body = {k: v for k, v in write.body.items() if k not in _CREATE_ONLY}
            return BatchOperation("PATCH", url, body=body)
        return BatchOperation("PATCH", url, body=write.body, headers={"If-None-Match": "*"})

    def _operation(self, write: p.Write, *, create_only: bool) -> BatchOperation:
        url = self._client.entity_path(f"{write.entity_set}{key_segment(write.key)}")
        if create_only:
            body = {**write.body, **write.create_only}
            return BatchOperation("PATCH", url, body=body, headers={"If-None-Match": "*"})
        return BatchOperation("PATCH", url, body=write.body, headers={"If-Match": "*"})


def _precondition_failed(failures: list[PartResponse]) -> bool:
    return bool(failures) and failures[0].status == _PRECONDITION_FAILED
