"""The soak's memory figures: /proc status parsing, steady RSS, growth, the report, the CSV."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.devenv.memory import (
    Kind,
    Memory,
    Sample,
    Traffic,
    figures,
    growth_pct,
    parse_status,
    peak_mb,
    read_csv,
    steady,
    write_csv,
)
from isthmus.devenv.memory_report import missed_targets, report_lines, sample_line

pytestmark = pytest.mark.unit

_STATUS = (
    "Name:\tpython\nState:\tS (sleeping)\nPid:\t4478\nVmPeak:\t  912340 kB\n"
    "VmSize:\t  850112 kB\nVmHWM:\t  118000 kB\nVmRSS:\t  114736 kB\nVmSwap:\t       0 kB\n"
)
_ZOMBIE = "Name:\tpython\nState:\tZ (zombie)\nPid:\t4478\nThreads:\t1\n"


def _series(component: str, kind: Kind, rss_mb: list[float], *, pid: int = 10) -> list[Sample]:
    return [
        Sample(
            elapsed_s=60.0 * index,
            component=component,
            kind=kind,
            pid=pid,
            memory=Memory(rss_kib=round(value * 1e6 / 1024), hwm_kib=round(value * 1e6 / 1024)),
        )
        for index, value in enumerate(rss_mb)
    ]


def test_status_gives_resident_set_and_its_peak_in_kib() -> None:
    assert parse_status(_STATUS) == Memory(rss_kib=114736, hwm_kib=118000)


def test_a_zombie_has_no_memory_reading() -> None:
    assert parse_status(_ZOMBIE) is None


def test_steady_is_the_median_of_the_second_half() -> None:
    assert steady([500.0, 90.0, 100.0, 102.0, 101.0, 400.0]) == 102.0
    assert steady([7.0]) == 7.0
    assert steady([]) is None


def test_growth_compares_the_last_quarter_with_the_second() -> None:
    # quarters of 8 values: [0,1] [2,3] [4,5] [6,7]; the first quarter (warm-up) is ignored
    assert growth_pct([10.0, 50.0, 100.0, 100.0, 103.0, 104.0, 110.0, 110.0]) == pytest.approx(10.0)
    assert growth_pct([80.0, 100.0, 100.0, 100.0]) == 0.0
    assert growth_pct([100.0, 100.0, 100.0]) is None


def test_a_flat_service_meets_the_targets_and_a_growing_one_does_not() -> None:
    samples = [
        *_series("ingress", Kind.SERVICE, [60, 110, 112, 111, 112, 112, 113, 112]),
        *_series("transformer", Kind.SERVICE, [60, 100, 100, 104, 108, 112, 116, 120]),
        *_series("sap-sink", Kind.SERVICE, [60, 160, 160, 160, 160, 160, 160, 160]),
        *_series("sandbox-s4", Kind.SANDBOX, [60, 200, 300, 400, 500, 600, 700, 800]),
    ]

    found = {item.component: item for item in figures(samples)}

    assert found["ingress"].meets_targets() is True
    assert found["transformer"].meets_targets() is False  # +15 % from quarter 2 to 4
    assert found["sap-sink"].meets_targets() is False  # steady 160 MB
    assert found["sandbox-s4"].meets_targets() is None  # a test double has no target
    assert missed_targets(samples) == ["transformer", "sap-sink"]


def test_the_report_shows_figures_beside_the_targets_and_the_demo_counters() -> None:
    samples = [
        *_series("ingress", Kind.SERVICE, [60, 110, 112, 111, 112, 112, 113, 112]),
        *_series("sandbox-d365", Kind.SANDBOX, [50, 90, 90, 90, 91, 91, 92, 92]),
        *_series("kafka", Kind.JVM, [400, 600, 610, 610, 620, 620, 620, 620]),
    ]

    text = "\n".join(report_lines(samples, Traffic(created=212, completed=208, in_dlq=0)))

    assert "7.0 min of demo traffic, a sample every 60 s (8 samples)" in text
    assert "orders created 212, completed 208, in DLQ 0" in text
    assert "services (targets: steady RSS <= 150 MB, growth < 5 %)" in text
    assert "  ingress                      112.0      +0.9    113.0  met" in text
    assert "sandboxes (test doubles, no target)" in text
    assert "kafka (broker JVM)" in text
    assert "targets: met by every service" in text
    assert "60.0 110.0 112.0 111.0 112.0 112.0 113.0 112.0" in text


def test_too_short_a_run_is_not_judged() -> None:
    lines = report_lines(_series("ingress", Kind.SERVICE, [60, 110]), Traffic())

    assert "targets: not judged (fewer than 4 samples of a service)" in lines


def test_a_restart_shows_as_a_gap_and_a_second_pid() -> None:
    before = _series("d365-sink", Kind.SERVICE, [90, 95], pid=10)
    gap = Sample(elapsed_s=120.0, component="d365-sink", kind=Kind.SERVICE, pid=None, memory=None)
    after = [
        Sample(s.elapsed_s + 180, s.component, s.kind, 11, s.memory)
        for s in _series("d365-sink", Kind.SERVICE, [70, 80])
    ]

    lines = report_lines([*before, gap, *after], Traffic())

    assert any(line.endswith("90.0 95.0 - 70.0 80.0") for line in lines)
    assert "  restarted: d365-sink (pids 10, 11)" in lines


def test_peak_is_the_highest_high_water_mark() -> None:
    samples = [
        Sample(0.0, "ingress", Kind.SERVICE, 1, Memory(rss_kib=100_000, hwm_kib=150_000)),
        Sample(60.0, "ingress", Kind.SERVICE, 1, Memory(rss_kib=90_000, hwm_kib=200_000)),
    ]

    assert peak_mb(samples, "ingress") == pytest.approx(204.8)
    assert peak_mb(samples, "transformer") is None


def test_a_sample_line_names_every_process() -> None:
    moment = [
        Sample(120.0, "ingress", Kind.SERVICE, 1, Memory(rss_kib=100_000, hwm_kib=100_000)),
        Sample(120.0, "kafka", Kind.JVM, None, None),
    ]

    line = sample_line(moment, Traffic(created=40, completed=35, in_dlq=1))

    assert line == (
        "  2.0 min  RSS MB: ingress 102.4, kafka -; orders created 40, completed 35, in DLQ 1"
    )


def test_the_csv_reads_back_as_written(tmp_path: Path) -> None:
    rows = [
        (Sample(0.0, "ingress", Kind.SERVICE, 42, Memory(rss_kib=1, hwm_kib=2)), Traffic()),
        (Sample(60.0, "kafka", Kind.JVM, None, None), Traffic(created=3, completed=2, in_dlq=1)),
    ]
    path = tmp_path / "soak.csv"

    write_csv(path, rows)

    assert read_csv(path) == rows
