"""The S/4HANA executor: each command kind through the S/4 connector, idempotent on repeat."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from opentelemetry import trace

from isthmus.connectors.errors import ConnectorError
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.idempotency import (
    SALES_ORDER_SERVICE,
)
from isthmus.sap_sink.adapters.s4_documents import DocumentCommands
from isthmus.sap_sink.adapters.s4_order_batch import OrderBatcher
from isthmus.sap_sink.adapters.s4_orders import OrderCommands
from isthmus.sap_sink.adapters.s4_partners import write_business_partner
from isthmus.sink.errors import (
    CommandFailedError,
    FailureClass,
    from_connector,
)
from isthmus.sink.model import Command, Outcome, Success
from isthmus.sink.xref import XrefKeys

ENTITIES = ("salesorder", "businesspartner", "outbounddelivery", "billingdocument", "journalentry")

Handler = Callable[[Command], Awaitable[Success]]
T = TypeVar("T")


class S4Executor(OrderCommands, DocumentCommands):
    """Runs sap-sink commands; a wave runs concurrently (``mode=batched``) or one by one.

    In batched mode the sales-order CREATEs of a wave go to S/4 as ``$batch`` requests of at
    most ``batch_size`` orders (finds, then creates); every other command runs on its own.
    """

    system = "s4"

    def __init__(
        self,
        *,
        client: S4Client,
        xref: XrefKeys | None,
        concurrency: int,
        billing_run_url: str | None = None,
        batch_size: int = 50,
        rejection_reason: str = "10",
    ) -> None:
        self._client = client
        self._xref = xref
        self._slots = asyncio.Semaphore(concurrency) if concurrency > 1 else None
        batched = self._slots is not None and batch_size > 1
        self._orders = OrderBatcher(client=client, batch_size=batch_size) if batched else None
        self._rejection_reason = rejection_reason
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
        creates = [i for i, c in enumerate(commands) if _order_create(c)]
        if self._orders is None or len(creates) < 2:  # noqa: PLR2004 - a batch of one gains nothing
            return list(await asyncio.gather(*(self._limited(c) for c in commands)))
        chosen = set(creates)
        others = [i for i in range(len(commands)) if i not in chosen]
        batched, rest = await asyncio.gather(
            self._create_orders([commands[i] for i in creates]),
            asyncio.gather(*(self._limited(commands[i]) for i in others)),
        )
        outcomes: dict[int, Outcome] = dict(zip(creates, batched, strict=True))
        outcomes.update(zip(others, rest, strict=True))
        return [outcomes[i] for i in range(len(commands))]

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
        return await self._guarded(command, handler)

    async def _guarded(
        self, command: Command, run: Callable[[Command], Awaitable[T]]
    ) -> T | CommandFailedError:
        """``run(command)`` in the command's span; every failure returned as its outcome."""
        try:
            if command.span is None:
                return await run(command)
            with trace.use_span(command.span, end_on_exit=False):
                return await run(command)
        except CommandFailedError as exc:
            return exc
        except ConnectorError as exc:
            return from_connector(exc)
        except (KeyError, TypeError, ValueError) as exc:
            # A command lacking what its kind needs can never succeed: the DLQ, not a crash.
            message = f"command lacks {exc}" if isinstance(exc, KeyError) else str(exc)
            return CommandFailedError(message, failure=FailureClass.VALIDATION)

    async def _business_partner(self, command: Command) -> Success:
        success = await write_business_partner(client=self._client, command=command)
        if success.target_id:
            self._known_customers.add(success.target_id)
        return success


def _order_create(command: Command) -> bool:
    return command.entity == "salesorder" and command.value.get("action") != "CHANGE"
