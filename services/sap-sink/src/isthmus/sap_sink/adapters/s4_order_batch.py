"""Sales-order creates of one wave as S/4 ``$batch`` requests: one batch of finds, one of creates.

Find-before-create stays the idempotency rule: every attempt first reads, in one batch, the
orders with each command's ``PurchaseOrderByCustomer`` + ``SoldToParty``, then creates the
missing ones in one batch with one change set per order. SAP Gateway runs each change set as
its own LUW (SAP KBA 3359766), so an order S/4 rejects fails alone and its error part is mapped
back to its command. When the batch request as a whole fails (5xx, 429, a dropped connection)
the attempt is repeated from the finds, so an order whose create answer was lost is found, never
created twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.multipart import BatchOperation, BatchPart
from isthmus.connectors.retry import call_with_retries
from isthmus.connectors.s4.batch import S4BatchResult, create_changeset, query_part
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.idempotency import SALES_ORDER_SERVICE
from isthmus.connectors.s4.odata import S4Entity, v2_literal
from isthmus.sap_sink.core import payloads as p
from isthmus.sink.errors import CommandFailedError, FailureClass, from_connector
from isthmus.sink.model import Command, Outcome, ResultStatus, Success, XrefLink
from isthmus.sink.waves import chunks

ORDERS = "A_SalesOrder"


@dataclass(frozen=True)
class OrderCreate:
    """A CREATE command whose prerequisites are met, with its deep-insert body."""

    command: Command
    body: dict[str, Any]

    @property
    def reference(self) -> tuple[str, str]:
        """What identifies the order in S/4: customer reference and sold-to party."""
        return str(self.body["PurchaseOrderByCustomer"]), str(self.body["SoldToParty"])


def order_success(command: Command, entity: S4Entity, *, created: bool) -> Success:
    """The success of a CREATE: the order made now, or an equal one found.

    Raises:
        CommandFailedError: an order with this reference exists with another type or
            sales organisation (CONFLICT).
    """
    data = entity.data
    if not created:
        mismatch = p.differs(data, command.value, ("SalesOrderType", "SalesOrganization"))
        if mismatch:
            raise CommandFailedError(
                f"sales order {data.get('SalesOrder')} exists with other {', '.join(mismatch)}",
                failure=FailureClass.CONFLICT,
            )
    number = str(data["SalesOrder"])
    return Success(
        status=ResultStatus.SUCCEEDED if created else ResultStatus.DUPLICATE,
        target_id=number,
        target_ids={"SalesOrder": number},
        state_key=number,
        state_fields=p.state_fields(data, p.SALES_ORDER_STATE),
        version=entity.etag,
        xref=[XrefLink("salesorder", command.key, number, "S4")],
        message="; ".join(m.message for m in entity.messages) or None,
        http_status=201 if created else 200,
    )


class OrderBatcher:
    """Creates the orders of a wave in ``$batch`` requests of at most ``batch_size`` orders."""

    def __init__(self, *, client: S4Client, batch_size: int) -> None:
        self._client = client
        self._batch_size = batch_size

    async def create(self, creates: Sequence[OrderCreate]) -> list[Outcome]:
        """One outcome per create, in order; the references must be distinct."""
        parts = chunks(creates, size=self._batch_size)
        answers = await asyncio.gather(*(self._chunk(part) for part in parts))
        return [outcome for answer in answers for outcome in answer]

    async def _chunk(self, creates: list[OrderCreate]) -> list[Outcome]:
        try:
            return await call_with_retries(
                lambda _retry: self._attempt(creates),
                policy=self._client.settings.retry,
                idempotent=True,  # every attempt looks before it creates
            )
        except ConnectorError as exc:
            failure = from_connector(exc)
        except CommandFailedError as exc:
            failure = exc
        return [failure for _ in creates]

    async def _attempt(self, creates: list[OrderCreate]) -> list[Outcome]:
        outcomes: list[Outcome | None] = [None] * len(creates)
        finds = await self._batch([_find_part(c) for c in creates])
        missing: list[int] = []
        for index, create in enumerate(creates):
            error = finds.error_at(index)
            if error is not None:
                outcomes[index] = from_connector(error)
                continue
            found = finds.entities_at(index)
            if found:
                outcomes[index] = _outcome(create.command, found[0], created=False)
            else:
                missing.append(index)
        if missing:
            made = await self._batch([create_changeset(ORDERS, creates[i].body) for i in missing])
            for position, index in enumerate(missing):
                outcomes[index] = _created(creates[index].command, made, position)
        return [o for o in outcomes if o is not None]

    async def _batch(self, parts: Sequence[BatchPart]) -> S4BatchResult:
        result = await self._client.batch(SALES_ORDER_SERVICE, parts)
        if len(result.responses) != len(parts):
            raise CommandFailedError(
                f"$batch answered {len(result.responses)} parts for {len(parts)} requests",
                failure=FailureClass.UNAVAILABLE,
            )
        return result


def _find_part(create: OrderCreate) -> BatchOperation:
    reference, sold_to = create.reference
    flt = f"PurchaseOrderByCustomer eq {v2_literal(reference)} and SoldToParty eq " + v2_literal(
        sold_to
    )
    return query_part(ORDERS, filter=flt, top=1)


def _created(command: Command, made: S4BatchResult, index: int) -> Outcome:
    error = made.error_at(index)
    if error is not None:
        return from_connector(error)
    return _outcome(command, made.entity_at(index), created=True)


def _outcome(command: Command, entity: S4Entity, *, created: bool) -> Outcome:
    try:
        return order_success(command, entity, created=created)
    except CommandFailedError as exc:
        return exc
