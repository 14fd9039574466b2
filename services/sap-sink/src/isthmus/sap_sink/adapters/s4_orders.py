"""Sales-order commands of sap-sink: CREATE (one by one or a wave in ``$batch``) and CHANGE."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.multipart import BatchOperation, ChangeSet
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.errors import S4NotFoundError
from isthmus.connectors.s4.idempotency import (
    BUSINESS_PARTNER_SERVICE,
    SALES_ORDER_SERVICE,
    create_sales_order_once,
    find_sales_order,
)
from isthmus.connectors.s4.odata import S4Entity, key_predicate
from isthmus.sap_sink.adapters.s4_order_batch import OrderBatcher, OrderCreate, order_success
from isthmus.sap_sink.core import payloads as p
from isthmus.sap_sink.core.items import REJECTION, plan_items
from isthmus.sink.errors import CommandFailedError, DependencyMissingError, from_connector
from isthmus.sink.model import Command, Outcome, ResultStatus, Success
from isthmus.sink.xref import XrefKeys

T = TypeVar("T")


class OrderCommands:
    """CREATE by find-before-create (batched per wave), CHANGE of header and items."""

    _client: S4Client
    _xref: XrefKeys | None
    _known_customers: set[str]
    _orders: OrderBatcher | None
    _rejection_reason: str

    async def _guarded(
        self, command: Command, run: Callable[[Command], Awaitable[T]]
    ) -> T | CommandFailedError:
        raise NotImplementedError  # the executor routes errors to outcomes

    async def _limited(self, command: Command) -> Outcome:
        raise NotImplementedError  # the executor bounds concurrency

    async def _sales_order(self, command: Command) -> Success:
        if command.value.get("action") == "CHANGE":
            return await self._change_order(command)
        create = await self._prepare_create(command)
        outcome = await create_sales_order_once(self._client, body=create.body)
        success = order_success(command, outcome.entity, created=outcome.created)
        self._known_customers.add(create.reference[1])
        return success

    async def _prepare_create(self, command: Command) -> OrderCreate:
        body = p.sales_order_body(command.value)
        if not body.get("PurchaseOrderByCustomer") or not body.get("SoldToParty"):
            raise ValueError("a sales order needs PurchaseOrderByCustomer and SoldToParty")
        await self._require_customer(str(body["SoldToParty"]))
        return OrderCreate(command=command, body=body)

    async def _create_orders(self, commands: Sequence[Command]) -> list[Outcome]:
        """The CREATEs of one wave: prerequisites each, then the distinct orders in batches."""
        assert self._orders is not None  # noqa: S101 - only called in batched mode
        prepared = await self._prepared(commands)
        outcomes: list[Outcome | None] = [None] * len(commands)
        batch: list[int] = []
        later: list[int] = []
        seen: set[tuple[str, str]] = set()
        for index, item in enumerate(prepared):
            if isinstance(item, CommandFailedError):
                outcomes[index] = item
            elif item.reference in seen:
                later.append(index)  # same order twice in a wave: the second finds the first
            else:
                seen.add(item.reference)
                batch.append(index)
        creates = [prepared[i] for i in batch]
        made = await self._orders.create([c for c in creates if isinstance(c, OrderCreate)])
        for index, outcome in zip(batch, made, strict=True):
            outcomes[index] = outcome
            if isinstance(outcome, Success):
                self._known_customers.add(str(commands[index].value.get("SoldToParty")))
        for index in later:
            outcomes[index] = await self._limited(commands[index])
        return [o for o in outcomes if o is not None]

    async def _prepared(
        self, commands: Sequence[Command]
    ) -> list[OrderCreate | CommandFailedError]:
        """Bodies and prerequisites of a wave's CREATEs: one look-up per customer, not per order."""
        parties = list({str(c.value.get("SoldToParty") or "") for c in commands})
        checks = await asyncio.gather(*(self._customer_failure(party) for party in parties))
        failed = {party: error for party, error in zip(parties, checks, strict=True) if error}
        prepared: list[OrderCreate | CommandFailedError] = []
        for command in commands:
            error = failed.get(str(command.value.get("SoldToParty") or ""))
            if error is None:
                prepared.append(await self._guarded(command, self._prepare_create))
            else:
                prepared.append(error)
        return prepared

    async def _customer_failure(self, party: str) -> CommandFailedError | None:
        try:
            await self._require_customer(party)
        except CommandFailedError as exc:
            return exc
        except ConnectorError as exc:
            return from_connector(exc)
        return None

    async def _change_order(self, command: Command) -> Success:
        value = command.value
        number = await self._order_number(value)
        try:
            order = await self._client.read(
                SALES_ORDER_SERVICE, "A_SalesOrder", number, expand=["to_Item"]
            )
        except S4NotFoundError as exc:
            raise DependencyMissingError(f"sales order {number} is not in S/4 yet") from exc
        operations = self._change_operations(number, order, value)
        if operations:
            result = await self._client.batch(SALES_ORDER_SERVICE, [ChangeSet(operations)])
            result.raise_for_errors()
        entity = await self._client.read(SALES_ORDER_SERVICE, "A_SalesOrder", number)
        return Success(
            status=ResultStatus.SUCCEEDED,
            target_id=number,
            target_ids={"SalesOrder": number},
            state_key=number,
            state_fields=p.state_fields(entity.data, p.SALES_ORDER_STATE),
            version=entity.etag,
            http_status=204,
        )

    def _change_operations(
        self, number: str, order: S4Entity, value: dict[str, Any]
    ) -> list[BatchOperation]:
        """Header PATCH (with the ETag) then the item writes, as one change set (one LUW)."""
        header = f"A_SalesOrder{key_predicate(number)}"
        operations = []
        changes = p.sales_order_changes(value)
        if changes:
            etag = {"If-Match": order.etag or "*"}
            operations.append(BatchOperation("PATCH", header, changes, etag))
        existing = (order.data.get("to_Item") or {}).get("results") or []
        plan = plan_items(existing=existing, wanted=value.get("to_Item") or [])
        for item, changes in plan.updates.items():
            operations.append(_item_patch(number, item, changes))
        for item in plan.rejects:
            operations.append(_item_patch(number, item, {REJECTION: self._rejection_reason}))
        for body in plan.creates:
            operations.append(BatchOperation("POST", f"{header}/to_Item", body))
        return operations

    async def _order_number(self, value: dict[str, Any]) -> str:
        if value.get("SalesOrder"):
            return str(value["SalesOrder"])
        # The create of this order ran first (per-key order); find its number by reference.
        found = await find_sales_order(
            self._client,
            purchase_order_by_customer=str(value["PurchaseOrderByCustomer"]),
            sold_to_party=str(value["SoldToParty"]),
        )
        if found is None:
            raise DependencyMissingError(
                f"sales order {value['PurchaseOrderByCustomer']} is not in S/4 yet"
            )
        return str(found.data["SalesOrder"])

    async def _require_customer(self, sold_to: str) -> None:
        """The dependency of an order: its sold-to party must exist (xref or S/4 itself)."""
        if not sold_to or sold_to in self._known_customers:
            return
        if self._xref is not None and self._xref.has(f"account:s4:{sold_to}"):
            self._known_customers.add(sold_to)
            return
        try:
            await self._client.read(BUSINESS_PARTNER_SERVICE, "A_Customer", sold_to)
        except S4NotFoundError as exc:
            raise DependencyMissingError(
                f"customer {sold_to} is not in S/4 yet (no xref entry account:s4:{sold_to})",
                awaits=[f"account:s4:{sold_to}"],
            ) from exc
        self._known_customers.add(sold_to)


def _item_patch(order: str, item: str, changes: dict[str, Any]) -> BatchOperation:
    key = key_predicate({"SalesOrder": order, "SalesOrderItem": item})
    return BatchOperation("PATCH", f"A_SalesOrderItem{key}", changes, {"If-Match": "*"})
