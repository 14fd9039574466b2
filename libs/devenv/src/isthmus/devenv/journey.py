"""One order's way through order-to-cash, as seen from the two systems."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

STAGES = (
    "d365 order",
    "s4 order",
    "write-back",
    "shipped",
    "delivery",
    "goods issue",
    "billing",
    "invoice",
    "posted",
    "journal entry",
)


@dataclass
class Journey:
    """What has happened to one D365 order so far, with the time of each hop."""

    order_id: str
    order_number: str
    account_id: str
    started: float = field(default_factory=time.monotonic)
    at: dict[str, float] = field(default_factory=dict)
    s4_order: str = ""
    delivery: str = ""
    billing: str = ""
    invoice_id: str = ""
    journal: str = ""

    def __post_init__(self) -> None:
        self.at.setdefault("d365 order", self.started)

    def reached(self, stage: str) -> bool:
        return stage in self.at

    def mark(self, stage: str) -> bool:
        """Record ``stage`` once; True the first time."""
        if stage in self.at:
            return False
        self.at[stage] = time.monotonic()
        return True

    @property
    def done(self) -> bool:
        return "journal entry" in self.at

    @property
    def stage(self) -> str:
        """The furthest hop reached."""
        return max(self.at, key=STAGES.index)

    def seconds(self, stage: str) -> float:
        return self.at[stage] - self.started

    def line(self) -> str:
        """``ORD-… → S/4 12 → written back → delivery 80000001 → … → journal entry 01000…``."""
        parts = [self.order_number]
        labels = {
            "s4 order": f"S/4 order {self.s4_order}",
            "write-back": "written back",
            "delivery": f"delivery {self.delivery}",
            "goods issue": "goods issued",
            "billing": f"billing {self.billing}",
            "invoice": "D365 invoice",
            "posted": "invoice paid",
            "journal entry": f"journal entry {self.journal}",
        }
        for stage in STAGES[1:]:
            if stage in self.at and stage in labels:
                parts.append(labels[stage])
        return " → ".join(parts) + f"  ({self.seconds(self.stage):.1f} s)"


# The pipeline's hops, each from the moment the demo saw its cause to the moment it saw the
# effect in the other system (the demo's own steps, fulfilment and payment, are not hops).
HOPS = (
    ("webhook→S/4 order", "d365 order", "s4 order"),
    ("S/4 order→write-back", "s4 order", "write-back"),
    ("shipment→delivery", "shipped", "delivery"),
    ("billing→D365 invoice", "billing", "invoice"),
    ("invoice→journal entry", "posted", "journal entry"),
)


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Summary:
    """The running totals the demo prints, with the p50/p99 of every hop."""

    created: int = 0
    completed: int = 0
    in_dlq: int = 0
    hops: dict[str, list[float]] = field(default_factory=lambda: {name: [] for name, *_ in HOPS})
    _counted: set[tuple[str, str]] = field(default_factory=set)

    def observe(self, journey: Journey) -> None:
        """Take the hops ``journey`` has completed since it was last observed."""
        for name, cause, effect in HOPS:
            seen = (journey.order_id, name)
            if cause in journey.at and effect in journey.at and seen not in self._counted:
                self._counted.add(seen)
                self.hops[name].append(journey.at[effect] - journey.at[cause])

    def text(self, *, in_flight: int, elapsed_s: float) -> str:
        rate = self.completed / elapsed_s * 60 if elapsed_s > 0 else 0.0
        hops = ", ".join(
            f"{name} {percentile(seconds, 0.5):.1f}/{percentile(seconds, 0.99):.1f} s"
            for name, seconds in self.hops.items()
            if seconds
        )
        return (
            f"orders created {self.created}, in flight {in_flight}, completed {self.completed}, "
            f"in DLQ {self.in_dlq}; {rate:.1f} completed/min"
            + (f"; p50/p99 {hops}" if hops else "")
        )
