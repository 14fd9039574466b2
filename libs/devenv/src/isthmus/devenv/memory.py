"""Resident memory of local processes over a soak: samples, steady RSS, growth, the report.

Sizes are read from ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``; the kernel's "kB" are KiB)
and reported in MB of 10^6 bytes, the unit of the targets.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

SERVICE_RSS_TARGET_MB = 150.0
GROWTH_TARGET_PCT = 5.0
_BYTES_PER_KIB = 1024
_QUARTERS = 4


class Kind(StrEnum):
    """What a sampled process is; only services are held to the targets."""

    SERVICE = "service"
    SANDBOX = "sandbox"
    JVM = "jvm"


@dataclass(frozen=True)
class Memory:
    """One reading of a process: resident set now and its peak so far, in KiB."""

    rss_kib: int
    hwm_kib: int


@dataclass(frozen=True)
class Sample:
    """One process at one moment of the soak (``memory`` None: it was not running)."""

    elapsed_s: float
    component: str
    kind: Kind
    pid: int | None
    memory: Memory | None


@dataclass(frozen=True)
class Traffic:
    """What the demo driver had done by a moment of the soak."""

    created: int = 0
    completed: int = 0
    in_dlq: int = 0


def parse_status(text: str) -> Memory | None:
    """``VmRSS`` and ``VmHWM`` of a ``/proc/<pid>/status`` text; None when it has neither
    (a zombie, a kernel thread)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    if "VmRSS" not in values:
        return None
    return Memory(rss_kib=values["VmRSS"], hwm_kib=values.get("VmHWM", values["VmRSS"]))


def read_memory(pid: int) -> Memory | None:
    """The resident memory of process ``pid``; None when it has ended."""
    try:
        return parse_status(Path(f"/proc/{pid}/status").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None


def mb(kib: float) -> float:
    """KiB as MB (10^6 bytes)."""
    return kib * _BYTES_PER_KIB / 1e6


def steady(series: Sequence[float]) -> float | None:
    """The median of the second half of ``series`` (the middle value counts to it)."""
    if not series:
        return None
    return statistics.median(series[len(series) // 2 :])


def growth_pct(series: Sequence[float]) -> float | None:
    """(mean of the last quarter - mean of the second quarter) / mean of the second quarter, %.

    None with fewer than four values or a second quarter of zero.
    """
    count = len(series)
    if count < _QUARTERS:
        return None
    bounds = [count * quarter // _QUARTERS for quarter in range(_QUARTERS + 1)]
    second = statistics.fmean(series[bounds[1] : bounds[2]])
    last = statistics.fmean(series[bounds[3] : bounds[4]])
    if second == 0:
        return None
    return (last - second) / second * 100


@dataclass(frozen=True)
class Figures:
    """One component's soak in MB: its series, steady RSS, growth and peak."""

    component: str
    kind: Kind
    series_mb: tuple[float | None, ...]
    pids: tuple[int, ...]

    @property
    def present(self) -> list[float]:
        return [value for value in self.series_mb if value is not None]

    @property
    def steady_mb(self) -> float | None:
        return steady(self.present)

    @property
    def growth_pct(self) -> float | None:
        return growth_pct(self.present)

    def meets_targets(self) -> bool | None:
        """Whether a service is within both targets (None: not a service, or too few samples)."""
        steady_mb, growth = self.steady_mb, self.growth_pct
        if self.kind is not Kind.SERVICE or steady_mb is None or growth is None:
            return None
        return steady_mb <= SERVICE_RSS_TARGET_MB and growth < GROWTH_TARGET_PCT


def figures(samples: Iterable[Sample]) -> list[Figures]:
    """Per component, in the order first seen, the series over every sampling moment."""
    by_component: dict[str, list[Sample]] = {}
    for sample in samples:
        by_component.setdefault(sample.component, []).append(sample)
    result = []
    for component, own in by_component.items():
        ordered = sorted(own, key=lambda sample: sample.elapsed_s)
        pids = tuple(dict.fromkeys(s.pid for s in ordered if s.pid is not None and s.memory))
        result.append(
            Figures(
                component=component,
                kind=ordered[0].kind,
                series_mb=tuple(mb(s.memory.rss_kib) if s.memory else None for s in ordered),
                pids=pids,
            )
        )
    return result


def peak_mb(samples: Iterable[Sample], component: str) -> float | None:
    """The highest ``VmHWM`` seen for ``component`` (its peak resident set)."""
    peaks = [s.memory.hwm_kib for s in samples if s.component == component and s.memory]
    return mb(max(peaks)) if peaks else None


_COLUMNS = (
    "elapsed_s",
    "component",
    "kind",
    "pid",
    "rss_kib",
    "hwm_kib",
    "orders_created",
    "orders_completed",
    "in_dlq",
)


def write_csv(path: Path, rows: Iterable[tuple[Sample, Traffic]]) -> None:
    """One line per sample, with the demo's counters at that moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        for sample, traffic in rows:
            memory = sample.memory
            writer.writerow(
                (
                    f"{sample.elapsed_s:.1f}",
                    sample.component,
                    sample.kind.value,
                    "" if sample.pid is None else sample.pid,
                    "" if memory is None else memory.rss_kib,
                    "" if memory is None else memory.hwm_kib,
                    traffic.created,
                    traffic.completed,
                    traffic.in_dlq,
                )
            )


def read_csv(path: Path) -> list[tuple[Sample, Traffic]]:
    """The rows ``write_csv`` wrote.

    Raises:
        KeyError, ValueError: the file is not a soak CSV.
    """
    with path.open(newline="") as handle:
        return [_row(line) for line in csv.DictReader(handle)]


def _row(line: dict[str, str]) -> tuple[Sample, Traffic]:
    memory = (
        Memory(rss_kib=int(line["rss_kib"]), hwm_kib=int(line["hwm_kib"]))
        if line["rss_kib"]
        else None
    )
    sample = Sample(
        elapsed_s=float(line["elapsed_s"]),
        component=line["component"],
        kind=Kind(line["kind"]),
        pid=int(line["pid"]) if line["pid"] else None,
        memory=memory,
    )
    traffic = Traffic(
        created=int(line["orders_created"]),
        completed=int(line["orders_completed"]),
        in_dlq=int(line["in_dlq"]),
    )
    return sample, traffic
