"""The demo driver: customers and orders into sandbox-d365, each order's journey printed live."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, TopicPartition
from rich.console import Console

from isthmus.devenv.demo_systems import (
    BILLING_SRV,
    DELIVERY_SRV,
    ORDERS_SRV,
    S4,
    Catalogue,
    Dataverse,
    account_body,
    order_body,
)
from isthmus.devenv.journey import Journey, Summary

DLQ_TOPICS = ("transformer.dlq", "sap-sink.dlq", "d365-sink.dlq")
PRODUCTS = ("TG11", "TG12")
PAID = 2  # invoice statecode


@dataclass(frozen=True)
class DemoSettings:
    """How much traffic the demo makes."""

    customers: int = 3
    order_interval_s: float = 2.0
    max_orders: int | None = None
    poll_interval_s: float = 1.0
    summary_interval_s: float = 10.0


class DemoDriver:
    """Creates customers and orders in D365, performs the human steps, prints every hop."""

    def __init__(
        self,
        *,
        d365_url: str,
        s4_url: str,
        ca_file: Path,
        bootstrap_servers: str,
        out: Console,
        settings: DemoSettings | None = None,
    ) -> None:
        self.d365 = Dataverse(url=d365_url, ca_file=ca_file)
        self.s4 = S4(url=s4_url, ca_file=ca_file)
        self.settings = settings or DemoSettings()
        self.out = out
        self.journeys: dict[str, Journey] = {}
        self.summary = Summary()
        self._bootstrap = bootstrap_servers
        self._run = uuid.uuid4().hex[:4].upper()
        self._accounts: dict[str, str] = {}  # D365 account id -> accountnumber
        self._ready_accounts: list[str] = []
        self._catalogue: Catalogue | None = None
        self._dlq_before = 0
        self._broker_away = False

    def run(self, stop: threading.Event) -> None:
        """Drive traffic until ``stop`` is set (or ``max_orders`` completed)."""
        self.set_up()
        started = time.monotonic()
        next_order = next_summary = started
        for number in itertools.count():
            if stop.wait(0 if number == 0 else self.settings.poll_interval_s):
                break
            now = time.monotonic()
            if now >= next_order and self._ready_accounts and self._may_order():
                self.create_order()
                next_order = now + self.settings.order_interval_s
            self.poll()
            if now >= next_summary:
                self._print_summary(now - started)
                next_summary = now + self.settings.summary_interval_s
        self._print_summary(time.monotonic() - started)
        self.close()

    def close(self) -> None:
        self.d365.close()
        self.s4.close()

    def set_up(self) -> None:
        """Sign in, stock up the plant, create the customers."""
        self.d365.sign_in()
        self._dlq_before = dead_letters(self._bootstrap)
        self._catalogue = self.d365.catalogue()
        for product in PRODUCTS:
            self.s4.set_stock(material=product, plant="1710", quantity=1_000_000)
        for number in range(1, self.settings.customers + 1):
            self.create_customer(number)

    def create_customer(self, number: int) -> str:
        body = account_body(number=number, run=self._run)
        row = self.d365.create("accounts", body)
        self._accounts[row["accountid"]] = body["accountnumber"]
        self.out.print(f"demo | customer {body['accountnumber']} created in D365: {body['name']}")
        return str(row["accountid"])

    def create_order(self, *, lines: list[tuple[str, int]] | None = None) -> Journey:
        """One order for the next ready customer."""
        assert self._catalogue is not None  # noqa: S101 - set_up ran
        account = self._ready_accounts[self.summary.created % len(self._ready_accounts)]
        index = self.summary.created
        chosen = lines or [(PRODUCTS[index % 2], 1 + index % 3), (PRODUCTS[(index + 1) % 2], 1)]
        row = self.d365.create(
            "salesorders",
            order_body(account_id=account, catalogue=self._catalogue, lines=chosen),
        )
        journey = Journey(
            order_id=row["salesorderid"], order_number=row["ordernumber"], account_id=account
        )
        self.journeys[journey.order_id] = journey
        self.summary.created += 1
        return journey

    @property
    def ready_accounts(self) -> list[str]:
        """D365 ids of the demo customers linked to an S/4 business partner."""
        return list(self._ready_accounts)

    def customers_ready(self) -> bool:
        """True once every demo customer is linked to its S/4 business partner."""
        return 0 < len(self._accounts) == len(self._ready_accounts)

    def _may_order(self) -> bool:
        limit = self.settings.max_orders
        return limit is None or self.summary.created < limit

    def poll(self) -> None:
        """Read both systems once, advance every journey, do the human steps that are due."""
        self._poll_customers()
        open_journeys = [j for j in self.journeys.values() if not j.done]
        if open_journeys:
            self._advance(open_journeys)
        self.count_dead_letters()

    def count_dead_letters(self) -> None:
        """Update the DLQ count; while the broker is away keep the last one and say so once."""
        try:
            count = dead_letters(self._bootstrap)
        except KafkaException as exc:
            if not self._broker_away:
                self.out.print(f"demo | Kafka unreachable, DLQ count not updated: {exc}")
            self._broker_away = True
            return
        if self._broker_away:
            self.out.print("demo | Kafka reachable again")
        self._broker_away = False
        self.summary.in_dlq = count - self._dlq_before

    def _poll_customers(self) -> None:
        waiting = [a for a in self._accounts if a not in self._ready_accounts]
        if not waiting:
            return
        rows = self.d365.rows("accounts", select="accountid,isthmus_s4businesspartner")
        for row in rows:
            if row["accountid"] in waiting and row.get("isthmus_s4businesspartner"):
                self._ready_accounts.append(row["accountid"])
                self.out.print(
                    f"demo | customer {self._accounts[row['accountid']]} is S/4 business "
                    f"partner {row['isthmus_s4businesspartner']}"
                )

    def _advance(self, journeys: list[Journey]) -> None:
        view = SystemsView.read(self.d365, self.s4)
        for journey in journeys:
            before = journey.stage
            self._step(journey, view)
            self.summary.observe(journey)
            if journey.stage != before:
                self._report(journey)

    def _step(self, journey: Journey, view: SystemsView) -> None:
        if not journey.s4_order and (s4 := view.s4_orders.get(journey.order_number)):
            journey.s4_order = s4
            journey.mark("s4 order")
        written = view.written_back.get(journey.order_id)
        if journey.s4_order and written == journey.s4_order and journey.mark("write-back"):
            self.d365.fulfil(journey.order_id)
            journey.mark("shipped")
        if journey.s4_order and not journey.delivery:
            journey.delivery = view.deliveries.get(journey.s4_order, "")
            if journey.delivery:
                journey.mark("delivery")
        issued = journey.delivery and view.goods_issued.get(journey.delivery)
        if issued and journey.mark("goods issue"):
            billed = self.s4.billing_run([journey.delivery])
            journey.billing = billed[0] if billed else view.billing_of(journey.delivery)
        if journey.delivery and not journey.billing:
            journey.billing = view.billing_of(journey.delivery)
        if journey.billing:
            journey.mark("billing")
            self._invoice_steps(journey, view)

    def _invoice_steps(self, journey: Journey, view: SystemsView) -> None:
        invoice = view.invoices.get(journey.billing)
        if invoice is None:
            return
        journey.invoice_id = invoice["invoiceid"]
        journey.mark("invoice")
        if invoice.get("statecode") != PAID and not journey.reached("posted"):
            self.d365.mark_paid(journey.invoice_id)
        journey.mark("posted")
        journal = view.journals.get(journey.billing, "")
        if journal:
            journey.journal = journal
            if journey.mark("journal entry"):
                self.summary.completed += 1

    def _report(self, journey: Journey) -> None:
        colour = "bold green" if journey.done else "white"
        self.out.print(f"demo | [{colour}]{journey.line()}[/{colour}]", soft_wrap=True)

    def _print_summary(self, elapsed_s: float) -> None:
        in_flight = sum(1 for j in self.journeys.values() if not j.done)
        text = self.summary.text(in_flight=in_flight, elapsed_s=elapsed_s)
        self.out.print(f"demo | [bold]{text}[/bold]", soft_wrap=True)


@dataclass
class SystemsView:
    """One snapshot of everything the journeys look at, read in a handful of queries."""

    s4_orders: dict[str, str]  # PurchaseOrderByCustomer -> SalesOrder
    written_back: dict[str, str]  # salesorderid -> isthmus_s4salesorder
    deliveries: dict[str, str]  # SalesOrder -> DeliveryDocument
    goods_issued: dict[str, bool]  # DeliveryDocument -> goods movement complete
    billing: dict[str, str]  # DeliveryDocument -> BillingDocument
    journals: dict[str, str]  # BillingDocument -> AccountingDocument
    invoices: dict[str, dict[str, Any]]  # BillingDocument -> D365 invoice row

    @classmethod
    def read(cls, d365: Dataverse, s4: S4) -> SystemsView:
        orders = s4.query(f"{ORDERS_SRV}/A_SalesOrder", select="SalesOrder,PurchaseOrderByCustomer")
        d_items = s4.query(
            f"{DELIVERY_SRV}/A_OutbDeliveryItem", select="DeliveryDocument,ReferenceSDDocument"
        )
        d_heads = s4.query(
            f"{DELIVERY_SRV}/A_OutbDeliveryHeader",
            select="DeliveryDocument,OverallGoodsMovementStatus",
        )
        b_items = s4.query(
            f"{BILLING_SRV}/A_BillingDocumentItem", select="BillingDocument,ReferenceSDDocument"
        )
        b_heads = s4.query(
            f"{BILLING_SRV}/A_BillingDocument", select="BillingDocument,AccountingDocument"
        )
        d_orders = d365.rows("salesorders", select="salesorderid,isthmus_s4salesorder")
        invoices = d365.rows("invoices", select="invoiceid,isthmus_s4billingdocument,statecode")
        return cls(
            s4_orders={o["PurchaseOrderByCustomer"]: o["SalesOrder"] for o in orders},
            written_back={
                o["salesorderid"]: o["isthmus_s4salesorder"]
                for o in d_orders
                if o.get("isthmus_s4salesorder")
            },
            deliveries={i["ReferenceSDDocument"]: i["DeliveryDocument"] for i in d_items},
            goods_issued={
                h["DeliveryDocument"]: h["OverallGoodsMovementStatus"] == "C" for h in d_heads
            },
            billing={i["ReferenceSDDocument"]: i["BillingDocument"] for i in b_items},
            journals={
                b["BillingDocument"]: b["AccountingDocument"]
                for b in b_heads
                if b.get("AccountingDocument")
            },
            invoices={
                i["isthmus_s4billingdocument"]: i
                for i in invoices
                if i.get("isthmus_s4billingdocument")
            },
        )

    def billing_of(self, delivery: str) -> str:
        return self.billing.get(delivery, "")


def dead_letters(bootstrap_servers: str) -> int:
    """Records in the three dead-letter topics (replayed ones included)."""
    consumer = Consumer({"bootstrap.servers": bootstrap_servers, "group.id": "isthmus-demo"})
    try:
        metadata = consumer.list_topics(timeout=10)
        total = 0
        for topic in DLQ_TOPICS:
            found = metadata.topics.get(topic)
            for partition in found.partitions if found else {}:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10
                )
                total += high - low
        return total
    finally:
        consumer.close()
