"""The latency bench's tables, and the lag catch-up arithmetic over partition offsets."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from tests.bench.latency.figures import Summary, ratio, verdict

Partition = tuple[str, int]

BARE = "bare Kafka round trip"
KAFKA_SIDE = "Kafka-side (source record → command visible)"
P99_TARGET = 2.0  # Kafka-side p99 / bare p99 at 50 % load, at most
TAIL_TARGET = 5.0  # Kafka-side p99.9 / p50, at most
CATCH_UP_TARGET = 3.0  # drain rate / input rate, at least


def _seconds(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def hop_table(loads: Mapping[str, Mapping[str, Summary]]) -> str:
    """A Markdown table: one row per hop, p50 / p99 / p99.9 (and the count) per load."""
    labels = list(loads)
    hops = list(next(iter(loads.values()))) if loads else []
    head = "| hop | " + " | ".join(f"{label} p50 / p99 / p99.9 (n)" for label in labels) + " |"
    rule = "|---|" + "---|" * len(labels)
    rows = [head, rule]
    for hop in hops:
        cells = []
        for label in labels:
            s = loads[label][hop]
            cells.append(f"{_seconds(s.p50)} / {_seconds(s.p99)} / {_seconds(s.p999)} ({s.count})")
        rows.append(f"| {hop} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


@dataclass(frozen=True)
class Ratios:
    """The Kafka-side figures judged against their targets at one load."""

    p99_to_bare: float
    tail_to_median: float

    @classmethod
    def of(cls, *, kafka_side: Summary, bare: Summary) -> Ratios:
        return cls(
            p99_to_bare=ratio(kafka_side.p99, bare.p99),
            tail_to_median=ratio(kafka_side.p999, kafka_side.p50),
        )

    def lines(self, label: str) -> list[str]:
        return [
            f"{label}: Kafka-side p99 / bare p99 = {self.p99_to_bare:.2f}x "
            f"(target ≤ {P99_TARGET:g}x at 50 %: {verdict(self.p99_to_bare, at_most=P99_TARGET)})",
            f"{label}: Kafka-side p99.9 / p50 = {self.tail_to_median:.2f}x "
            f"(target ≤ {TAIL_TARGET:g}x: {verdict(self.tail_to_median, at_most=TAIL_TARGET)})",
        ]


def backlog(
    *,
    committed: Mapping[Partition, int],
    ends: Mapping[Partition, int],
    baseline: Mapping[Partition, int],
) -> int:
    """Records between a group's committed offsets and the end offsets.

    A partition the group has no commit for starts at ``baseline`` (its end offset when the
    consumer stopped: nothing was pending there then), not at 0.
    """
    return sum(max(end - committed.get(tp, baseline.get(tp, end)), 0) for tp, end in ends.items())


def drained(
    *,
    committed: Mapping[Partition, int],
    targets: Mapping[Partition, int],
    baseline: Mapping[Partition, int],
) -> bool:
    """True once the group has committed past every partition's target offset.

    A partition without a commit is drained when no record arrived there after ``baseline``.
    """
    return all(committed.get(tp, baseline.get(tp, 0)) >= target for tp, target in targets.items())


@dataclass(frozen=True)
class CatchUp:
    """How fast a stopped consumer's backlog drained after its restart."""

    backlog: int
    outage_s: float
    arrived: int  # records that reached the input during the outage
    drain_s: float  # from the restart to every partition committed past its end at restart
    ready_s: float  # from the restart to the process answering /readyz

    @property
    def input_rate(self) -> float:
        return ratio(self.arrived, self.outage_s)

    @property
    def drain_rate(self) -> float:
        return ratio(self.backlog, self.drain_s)

    @property
    def multiple(self) -> float:
        return ratio(self.drain_rate, self.input_rate)

    @property
    def multiple_after_ready(self) -> float:
        """The same, with the start-up time (imports, group join) left out."""
        return ratio(ratio(self.backlog, self.drain_s - self.ready_s), self.input_rate)

    def line(self) -> str:
        return (
            f"lag catch-up: backlog {self.backlog} records after {self.outage_s:.0f} s "
            f"(input {self.input_rate:.1f} records/s), drained in {self.drain_s:.1f} s "
            f"({self.ready_s:.1f} s of it start-up) = {self.drain_rate:.1f} records/s = "
            f"{self.multiple:.1f}x the input rate ({self.multiple_after_ready:.1f}x after ready); "
            f"target ≥ {CATCH_UP_TARGET:g}x: {verdict(self.multiple, at_least=CATCH_UP_TARGET)}"
        )
