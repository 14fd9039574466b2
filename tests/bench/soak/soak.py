"""Soak: the whole local system under demo traffic, the resident memory of every process sampled.

Starts what ``make run`` starts (broker, registry, both sandboxes, the four services, the demo
driver at its default rate) in a folder and on ports of its own (``.local/soak/``, emptied
first, so a ``make run`` can go on beside it), and every ``--interval-s`` reads each process's
``VmRSS`` and ``VmHWM`` from ``/proc/<pid>/status``, the pids taken from the supervisor and the
broker's and registry's pid files. At the end it prints, per process, the RSS series, the steady
RSS (median of the second half) and the growth (last quarter against the second) beside the
targets, and writes every sample to a CSV. Exit code 1 when a service misses a target.

Run: ``uv run python tests/bench/soak/soak.py [--minutes 60] [--interval-s 60] [--csv PATH]``;
``--from-csv PATH`` prints the report of an earlier run again.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.localrun import (
    LocalSystem,
    Placement,
    local_system,
    start_demo,
    watch_children,
)
from isthmus.devenv.memory import Kind, Sample, Traffic, read_csv, read_memory, write_csv
from isthmus.devenv.memory_report import missed_targets, report_lines, sample_line
from isthmus.devenv.paths import find_root, local_dir

FOLDER = "soak"
JVMS = ("kafka", "registry")


def kind_of(component: str) -> Kind:
    """Sandboxes are test doubles and the JVMs infrastructure; the rest are services."""
    if component.startswith("sandbox-"):
        return Kind.SANDBOX
    return Kind.JVM if component in JVMS else Kind.SERVICE


def traffic_of(driver: DemoDriver) -> Traffic:
    summary = driver.summary
    return Traffic(created=summary.created, completed=summary.completed, in_dlq=summary.in_dlq)


def sample_now(system: LocalSystem, elapsed_s: float) -> list[Sample]:
    """Every process of ``system`` at this moment."""
    return [
        Sample(
            elapsed_s=elapsed_s,
            component=name,
            kind=kind_of(name),
            pid=pid,
            memory=None if pid is None else read_memory(pid),
        )
        for name, pid in system.pids().items()
    ]


def sample_for(
    system: LocalSystem,
    driver: DemoDriver,
    demo: threading.Thread,
    stop: threading.Event,
    *,
    duration_s: float,
    interval_s: float,
) -> list[tuple[Sample, Traffic]]:
    """Sample at 0, ``interval_s``, ... up to ``duration_s`` (or until ``stop``)."""
    rows: list[tuple[Sample, Traffic]] = []
    started = time.monotonic()
    demo_reported = False
    for tick in itertools.count():
        if tick * interval_s > duration_s:
            break
        if stop.wait(max(0.0, started + tick * interval_s - time.monotonic())):
            break
        moment = sample_now(system, time.monotonic() - started)
        traffic = traffic_of(driver)
        rows += [(sample, traffic) for sample in moment]
        print(sample_line(moment, traffic), flush=True)
        if not demo.is_alive() and not demo_reported:
            print("demo driver stopped: no more traffic (see the console log)", flush=True)
            demo_reported = True
    return rows


def soak(
    *, root: Path, duration_s: float, interval_s: float, console_log: Path
) -> list[tuple[Sample, Traffic]]:
    """Run the system for ``duration_s`` under demo traffic and return every sample."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    console_log.parent.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[Sample, Traffic]] = []
    with console_log.open("w") as handle:
        out = Console(file=handle, width=200, soft_wrap=True)
        print(f"starting the system in .local/{FOLDER}/ (console: {console_log})", flush=True)
        with local_system(
            root=root, placement=Placement.isolated(folder=FOLDER), out=out
        ) as system:
            driver, demo = start_demo(system.config, stop, out)
            watcher = threading.Thread(
                target=watch_children, args=(system.supervisor, stop, out), daemon=True
            )
            watcher.start()
            print(f"ready; sampling every {interval_s:g} s for {duration_s / 60:g} min", flush=True)
            try:
                rows = sample_for(
                    system, driver, demo, stop, duration_s=duration_s, interval_s=interval_s
                )
            finally:
                stop.set()
                demo.join(timeout=30)
                watcher.join(timeout=5)
                print("stopping the system", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="length of the soak")
    parser.add_argument("--interval-s", type=float, default=60.0, help="time between samples")
    parser.add_argument("--csv", type=Path, help="where the samples go (default under .local/)")
    parser.add_argument("--from-csv", type=Path, help="print the report of an earlier run")
    args = parser.parse_args()
    if args.from_csv:
        rows = read_csv(args.from_csv)
    else:
        root = find_root()
        local = local_dir(root)
        shutil.rmtree(local / FOLDER, ignore_errors=True)  # empty topics, freshly seeded sandboxes
        rows = soak(
            root=root,
            duration_s=args.minutes * 60,
            interval_s=args.interval_s,
            console_log=local / FOLDER / "console.log",
        )
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = args.csv or local / "soak-results" / f"soak-{stamp}.csv"
        write_csv(path, rows)
        print(f"samples written to {path}")
    samples = [sample for sample, _traffic in rows]
    traffic = rows[-1][1] if rows else Traffic()
    print("\n".join(report_lines(samples, traffic)))
    return 1 if missed_targets(samples) else 0


if __name__ == "__main__":
    sys.exit(main())
