"""One order's way through order-to-cash, as seen from the two systems."""

from __future__ import annotations

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


@dataclass
class Summary:
    """The running totals the demo prints."""

    created: int = 0
    completed: int = 0
    in_dlq: int = 0
    latencies: list[float] = field(default_factory=list)

    def text(self, *, in_flight: int, elapsed_s: float) -> str:
        rate = self.completed / elapsed_s * 60 if elapsed_s > 0 else 0.0
        median = sorted(self.latencies)[len(self.latencies) // 2] if self.latencies else 0.0
        return (
            f"orders created {self.created}, in flight {in_flight}, completed {self.completed}, "
            f"in DLQ {self.in_dlq}; {rate:.1f} completed/min; "
            f"median webhook→S/4 order {median:.1f} s"
        )
