"""The latency bench's pure parts: the Poisson schedule, hops from audit events, summaries."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # an hour: nothing in a run waits longer
SIGNIFICANT_DIGITS = 3
DONE_OUTCOMES = frozenset({"SUCCEEDED", "DUPLICATE"})


def poisson_offsets(*, rate: float, duration_s: float, seed: int) -> list[float]:
    """Intended arrival times (seconds after t0) of an open-loop load at ``rate`` per second.

    The gaps are exponential (a Poisson process) from a seeded generator, so a run can be
    repeated with the very same schedule.

    Raises:
        ValueError: ``rate`` or ``duration_s`` is not positive.
    """
    if rate <= 0 or duration_s <= 0:
        raise ValueError(f"rate and duration must be positive, not {rate} and {duration_s}")
    draw = random.Random(seed)  # noqa: S311 - a load schedule, not a secret
    offsets: list[float] = []
    moment = draw.expovariate(rate)
    while moment < duration_s:
        offsets.append(moment)
        moment += draw.expovariate(rate)
    return offsets


class Stage(Enum):
    """The moments of an order's journey the bench records (epoch seconds)."""

    INTENDED = "intended"  # the schedule's arrival time of the D365 create
    S4_ORDER = "s4 order"  # sap-sink created the S/4 order (audit)
    WRITE_BACK = "write-back"  # d365-sink wrote the S/4 number to the D365 order (audit)
    FULFIL = "fulfil"  # the bench sent FulfillSalesOrder
    DELIVERY = "delivery"  # sap-sink created the delivery and posted goods issue (audit)
    BILLING_RUN = "billing run"  # the bench sent the S/4 billing run
    INVOICE = "invoice"  # d365-sink upserted the D365 invoice (audit)
    PAID = "paid"  # the bench marked the D365 invoice paid
    JOURNAL = "journal entry"  # sap-sink posted the journal entry (audit)


@dataclass(frozen=True)
class Hop:
    """A reported latency: from one recorded moment to another."""

    name: str
    start: Stage
    end: Stage


HOPS = (
    Hop("webhook → S/4 order", Stage.INTENDED, Stage.S4_ORDER),
    Hop("S/4 order → D365 write-back", Stage.S4_ORDER, Stage.WRITE_BACK),
    Hop("shipment → delivery", Stage.FULFIL, Stage.DELIVERY),
    Hop("billing → D365 invoice", Stage.BILLING_RUN, Stage.INVOICE),
    Hop("invoice → journal entry", Stage.PAID, Stage.JOURNAL),
    Hop("end to end (to the D365 invoice)", Stage.INTENDED, Stage.INVOICE),
)


@dataclass(frozen=True)
class Effect:
    """What one audit event says happened: a stage reached for a key, with the new id."""

    stage: Stage
    key: str
    target: str | None
    at: float


# (service, entity) of the sink hops that end a stage; the key is the command's key.
_ENDS = {
    ("sap-sink", "salesorder"): Stage.S4_ORDER,  # key salesorderid, target S/4 SalesOrder
    ("d365-sink", "salesorder"): Stage.WRITE_BACK,  # key salesorderid
    ("sap-sink", "outbounddelivery"): Stage.DELIVERY,  # key salesorderid, target delivery
    ("d365-sink", "invoice"): Stage.INVOICE,  # key BillingDocument, target invoiceid
    ("sap-sink", "journalentry"): Stage.JOURNAL,  # key invoiceid, target AccountingDocument
}


def effect_of(event: Mapping[str, Any]) -> Effect | None:
    """The stage a decoded ``AuditEvent`` ends, or None when it ends none of ours."""
    stage = _ENDS.get((str(event["service"]), str(event.get("entity"))))
    if stage is None or str(event["outcome"]) not in DONE_OUTCOMES:
        return None
    occurred: datetime = event["occurredAt"]
    return Effect(
        stage=stage, key=event["businessKey"], target=event.get("targetId"), at=occurred.timestamp()
    )


@dataclass
class Journey:
    """One order: its moments and the ids that lead from one hop to the next."""

    order_id: str
    at: dict[Stage, float] = field(default_factory=dict)
    s4_order: str = ""
    delivery: str = ""
    billing: str = ""
    invoice: str = ""

    @property
    def done(self) -> bool:
        """The D365 invoice is written. A journal entry follows only for invoices S/4 did not
        bill (the flow's condition); S/4 posts a billed invoice's accounting document itself."""
        return Stage.INVOICE in self.at


class Step(Enum):
    """The human steps the bench does when it sees their cause."""

    FULFIL = "fulfil"
    BILLING_RUN = "billing run"
    MARK_PAID = "mark paid"


@dataclass(frozen=True)
class Due:
    """A human step to do now for a journey (``subject``: the delivery or the invoice id)."""

    step: Step
    journey: Journey
    subject: str


class Ledger:
    """Every order of a run; turns audit effects into recorded moments and due human steps.

    An effect can arrive before the bench knows its key (the webhook is faster than the
    create's answer, or the billing run's answer); it is kept and applied when the key is known.
    """

    def __init__(self) -> None:
        self.journeys: dict[str, Journey] = {}
        self._by_billing: dict[str, Journey] = {}
        self._by_invoice: dict[str, Journey] = {}
        self._early: dict[tuple[Stage, str], Effect] = {}

    def add(self, *, order_id: str, intended: float) -> list[Due]:
        """A created order; returns the steps its early effects make due."""
        journey = Journey(order_id=order_id, at={Stage.INTENDED: intended})
        self.journeys[order_id] = journey
        return self._replay(Stage.S4_ORDER, Stage.WRITE_BACK, Stage.DELIVERY, key=order_id)

    def billed(self, journey: Journey, *, billing: str) -> list[Due]:
        """The billing run answered with ``billing`` for the journey's delivery."""
        journey.billing = billing
        self._by_billing[billing] = journey
        return self._replay(Stage.INVOICE, key=billing)

    def sent(self, due: Due, *, at: float) -> None:
        """The bench sent a human step at ``at`` (the start of the next hop)."""
        stage = {
            Step.FULFIL: Stage.FULFIL,
            Step.BILLING_RUN: Stage.BILLING_RUN,
            Step.MARK_PAID: Stage.PAID,
        }
        due.journey.at.setdefault(stage[due.step], at)

    def observe(self, effect: Effect) -> list[Due]:
        """Apply one effect; returns the human steps it makes due (at most one)."""
        journey = self._journey_of(effect)
        if journey is None:
            self._early.setdefault((effect.stage, effect.key), effect)
            return []
        if effect.stage in journey.at:
            return []  # a replay or a later change: the first effect ends the hop
        journey.at[effect.stage] = effect.at
        return self._next(journey, effect)

    def _journey_of(self, effect: Effect) -> Journey | None:
        if effect.stage is Stage.INVOICE:
            return self._by_billing.get(effect.key)
        if effect.stage is Stage.JOURNAL:
            return self._by_invoice.get(effect.key)
        return self.journeys.get(effect.key)

    def _next(self, journey: Journey, effect: Effect) -> list[Due]:
        target = effect.target or ""
        if effect.stage is Stage.S4_ORDER:
            journey.s4_order = target
        elif effect.stage is Stage.WRITE_BACK:
            return [Due(Step.FULFIL, journey, journey.order_id)]
        elif effect.stage is Stage.DELIVERY and target:
            journey.delivery = target
            return [Due(Step.BILLING_RUN, journey, target)]
        elif effect.stage is Stage.INVOICE and target:
            journey.invoice = target
            self._by_invoice[target] = journey
            return [Due(Step.MARK_PAID, journey, target), *self._replay(Stage.JOURNAL, key=target)]
        return []

    def _replay(self, *stages: Stage, key: str) -> list[Due]:
        due: list[Due] = []
        for stage in stages:
            early = self._early.pop((stage, key), None)
            if early is not None:
                due += self.observe(early)
        return due


def journey_rate(journeys: Iterable[Journey]) -> float:
    """Whole journeys per second: those done over the time from the first arrival to the last
    D365 invoice (0.0 when none is done).

    Every stage shares the services and sandboxes with the others, so a burst's first stage
    alone (S/4 creates per second) runs far faster than the chain sustains; all of a burst's
    work over all of its time is what the chain does per second, a little understated by the
    time the first journey takes to get through.
    """
    started = [j.at[Stage.INTENDED] for j in journeys if Stage.INTENDED in j.at]
    finished = [j.at[Stage.INVOICE] for j in journeys if j.done]
    if not finished:
        return 0.0
    return len(finished) / max(max(finished) - min(started), 1e-3)


def histogram() -> HdrHistogram:
    """An empty histogram of microseconds, 1 µs to an hour, three significant digits."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record(into: HdrHistogram, seconds: float) -> None:
    """Record a latency in seconds (clamped to the histogram's range: clocks of ms resolution
    can put an end a fraction of a millisecond before its start)."""
    into.record_value(min(max(round(seconds * 1e6), LOWEST_US), HIGHEST_US))


def hop_histograms(journeys: Iterable[Journey]) -> dict[str, HdrHistogram]:
    """One histogram per hop over the journeys that reached both of its ends."""
    out = {hop.name: histogram() for hop in HOPS}
    for journey in journeys:
        for hop in HOPS:
            if hop.start in journey.at and hop.end in journey.at:
                record(out[hop.name], journey.at[hop.end] - journey.at[hop.start])
    return out


@dataclass(frozen=True)
class Summary:
    """Count and percentiles of one histogram, in seconds."""

    count: int
    p50: float
    p99: float
    p999: float
    max: float

    @classmethod
    def of(cls, recorded: HdrHistogram) -> Summary:
        if recorded.get_total_count() == 0:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan)
        at = recorded.get_value_at_percentile
        return cls(
            count=recorded.get_total_count(),
            p50=at(50) / 1e6,
            p99=at(99) / 1e6,
            p999=at(99.9) / 1e6,
            max=recorded.get_max_value() / 1e6,
        )


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is zero or missing."""
    if not denominator or math.isnan(denominator):
        return float("nan")
    return numerator / denominator


def verdict(value: float, *, at_most: float | None = None, at_least: float | None = None) -> str:
    """ "met" or "not met" against a target bound; "no figure" for NaN."""
    if math.isnan(value):
        return "no figure"
    ok = (at_most is None or value <= at_most) and (at_least is None or value >= at_least)
    return "met" if ok else "not met"
