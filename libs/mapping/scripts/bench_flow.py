"""Micro-benchmark: records per second of one flow on its sample event (not a test).

Usage: uv run python libs/mapping/scripts/bench_flow.py [flow-id] [seconds]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from isthmus.mapping import InMemoryLookups, load_flows

REPO = Path(__file__).resolve().parents[3]
SAMPLES = {
    "d365-salesorder-to-s4": "d365-salesorder-created",
    "d365-invoice-to-s4-journalentry": "d365-invoice-paid",
    "s4-businesspartner-to-d365-account": "s4-businesspartner-changed",
}
XREF = InMemoryLookups(
    {
        "account": {"00000000-0000-0000-0000-000000000020": "17100001"},
        "salesorder": {"6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10": "4711"},
    }
)


def main() -> None:
    """Map the sample repeatedly for a few seconds and print the rate."""
    flow_id = sys.argv[1] if len(sys.argv) > 1 else "d365-salesorder-to-s4"
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0  # noqa: PLR2004 - argv position
    flow = load_flows(REPO / "flows")[flow_id]
    record = json.loads((REPO / "flows" / "samples" / f"{SAMPLES[flow_id]}.json").read_text())
    assert flow.apply(record, XREF).ok  # noqa: S101 - the benchmark must map, not fail fast
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        for _ in range(200):
            flow.matches("Create", record)
            flow.apply(record, XREF)
        count += 200
    elapsed = time.perf_counter() - started
    print(f"{flow_id}: {count / elapsed:,.0f} records/s ({count} records in {elapsed:.2f} s)")


if __name__ == "__main__":
    main()
