"""The S/4HANA executor: each command kind through the S/4 connector, idempotent on repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from opentelemetry import trace

from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.errors import S4NotFoundError
from isthmus.connectors.s4.idempotency import (
    BUSINESS_PARTNER_SERVICE,
    SALES_ORDER_SERVICE,
    create_business_partner_once,
    create_sales_order_once,
    find_sales_order,
)
from isthmus.sap_sink.adapters.s4_documents import DocumentCommands
from isthmus.sap_sink.core import payloads as p
from isthmus.sink.errors import (
    CommandFailedError,
    DependencyMissingError,
    FailureClass,
    from_connector,
)
from isthmus.sink.model import Command, Outcome, ResultStatus, Success, XrefLink
from isthmus.sink.xref import XrefTable

ENTITIES = ("salesorder", "businesspartner", "outbounddelivery", "billingdocument", "journalentry")

Handler = Callable[[Command], Awaitable[Success]]


class S4Executor(DocumentCommands):
    """Runs sap-sink commands; a wave runs concurrently (``mode=batched``) or one by one."""

    system = "s4"

    def __init__(
        self,
        *,
        client: S4Client,
        xref: XrefTable | None,
        concurrency: int,
        billing_run_url: str | None = None,
    ) -> None:
        self._client = client
        self._xref = xref
        self._slots = asyncio.Semaphore(concurrency) if concurrency > 1 else None
        self._billing_run_url = billing_run_url
        self._known_customers: set[str] = set()
        self._handlers: dict[str, Handler] = {
            "salesorder": self._sales_order,
            "businesspartner": self._business_partner,
            "outbounddelivery": self._delivery,
            "billingdocument": self._billing,
            "journalentry": self._journal_entry,
        }

    async def execute(self, commands: Sequence[Command]) -> list[Outcome]:
        """One outcome per command; failures are returned as ``CommandFailedError``."""
        if self._slots is None:
            return [await self._one(command) for command in commands]
        return list(await asyncio.gather(*(self._limited(c) for c in commands)))

    async def probe(self) -> None:
        """Read the sales order service document (authenticated, cheap)."""
        try:
            await self._client.query(SALES_ORDER_SERVICE, "A_SalesOrder", top=1)
        except ConnectorError as exc:
            raise from_connector(exc) from exc

    async def aclose(self) -> None:
        """Close the S/4 client."""
        await self._client.aclose()

    async def _limited(self, command: Command) -> Outcome:
        assert self._slots is not None  # noqa: S101 - only called in concurrent mode
        async with self._slots:
            return await self._one(command)

    async def _one(self, command: Command) -> Outcome:
        handler = self._handlers.get(command.entity)
        if handler is None:
            return CommandFailedError(
                f"no S/4 handler for {command.entity}", failure=FailureClass.VALIDATION
            )
        try:
            if command.span is None:
                return await handler(command)
            with trace.use_span(command.span, end_on_exit=False):
                return await handler(command)
        except CommandFailedError as exc:
            return exc
        except ConnectorError as exc:
            return from_connector(exc)
        except (KeyError, TypeError, ValueError) as exc:
            # A command lacking what its kind needs can never succeed: the DLQ, not a crash.
            message = f"command lacks {exc}" if isinstance(exc, KeyError) else str(exc)
            return CommandFailedError(message, failure=FailureClass.VALIDATION)

    async def _sales_order(self, command: Command) -> Success:
        value = command.value
        if value.get("action") == "CHANGE":
            return await self._change_order(command)
        await self._require_customer(str(value.get("SoldToParty") or ""))
        outcome = await create_sales_order_once(self._client, body=p.sales_order_body(value))
        data = outcome.entity.data
        if not outcome.created:
            mismatch = p.differs(data, value, ("SalesOrderType", "SalesOrganization"))
            if mismatch:
                raise CommandFailedError(
                    f"sales order {data.get('SalesOrder')} exists with other {', '.join(mismatch)}",
                    failure=FailureClass.CONFLICT,
                )
        number = str(data["SalesOrder"])
        self._known_customers.add(str(value.get("SoldToParty")))
        return Success(
            status=ResultStatus.SUCCEEDED if outcome.created else ResultStatus.DUPLICATE,
            target_id=number,
            target_ids={"SalesOrder": number},
            state_key=number,
            state_fields=p.state_fields(data, p.SALES_ORDER_STATE),
            version=outcome.entity.etag,
            xref=[XrefLink("salesorder", command.key, number, "S4")],
            message="; ".join(m.message for m in outcome.entity.messages) or None,
            http_status=201 if outcome.created else 200,
        )

    async def _change_order(self, command: Command) -> Success:
        value = command.value
        number = value.get("SalesOrder")
        if not number:
            # The create of this order must have run first (per-key order); find its number.
            found = await find_sales_order(
                self._client,
                purchase_order_by_customer=str(value["PurchaseOrderByCustomer"]),
                sold_to_party=str(value["SoldToParty"]),
            )
            if found is None:
                raise DependencyMissingError(
                    f"sales order {value['PurchaseOrderByCustomer']} is not in S/4 yet"
                )
            number = found.data["SalesOrder"]
        await self._require("salesorder", str(number), SALES_ORDER_SERVICE, "A_SalesOrder")
        changes = p.sales_order_changes(command.value)
        written = await self._client.update(
            SALES_ORDER_SERVICE, "A_SalesOrder", str(number), changes
        )
        entity = await self._client.read(SALES_ORDER_SERVICE, "A_SalesOrder", str(number))
        return Success(
            status=ResultStatus.SUCCEEDED,
            target_id=str(number),
            target_ids={"SalesOrder": str(number)},
            state_key=str(number),
            state_fields=p.state_fields(entity.data, p.SALES_ORDER_STATE),
            version=written.etag or entity.etag,
            http_status=204,
        )

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
                f"customer {sold_to} is not in S/4 yet (no xref entry account:s4:{sold_to})"
            ) from exc
        self._known_customers.add(sold_to)

    async def _business_partner(self, command: Command) -> Success:
        value = command.value
        number = value.get("BusinessPartner")
        if number:
            await self._client.update(
                BUSINESS_PARTNER_SERVICE, "A_BusinessPartner", str(number), p.partner_changes(value)
            )
            entity = await self._client.read(
                BUSINESS_PARTNER_SERVICE, "A_BusinessPartner", str(number)
            )
            created = True
        else:
            outcome = await create_business_partner_once(self._client, body=p.partner_body(value))
            entity, created = outcome.entity, outcome.created
        partner = str(entity.data["BusinessPartner"])
        self._known_customers.add(partner)
        return Success(
            status=ResultStatus.SUCCEEDED if created else ResultStatus.DUPLICATE,
            target_id=partner,
            target_ids={"BusinessPartner": partner},
            state_key=partner,
            state_fields=p.state_fields(entity.data, p.PARTNER_STATE),
            version=entity.etag,
            xref=[XrefLink("account", command.key, partner, "S4")],
        )
