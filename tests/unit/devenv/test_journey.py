"""The demo's journey lines and its summary with the p50/p99 of every hop."""

from __future__ import annotations

import pytest

from isthmus.devenv.journey import HOPS, Journey, Summary, percentile

pytestmark = pytest.mark.unit


def _journey(order: str, **at: float) -> Journey:
    journey = Journey(order_id=order, order_number=f"ORD-{order}", account_id="a", started=0.0)
    journey.at.update({stage.replace("_", " "): moment for stage, moment in at.items()})
    return journey


def test_nearest_rank_percentiles() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0
    assert percentile([], 0.5) == 0.0


def test_each_hop_is_counted_once_per_order_from_its_cause_to_its_effect() -> None:
    summary = Summary()
    first = _journey("1", s4_order=0.4)
    summary.observe(first)
    first.at.update({"write-back": 1.0, "shipped": 1.1, "delivery": 1.6})
    summary.observe(first)
    summary.observe(first)  # seen again: nothing counted twice
    summary.observe(_journey("2", s4_order=0.8))
    assert summary.hops["webhook→S/4 order"] == [0.4, 0.8]
    assert summary.hops["S/4 order→write-back"] == [pytest.approx(0.6)]
    assert summary.hops["shipment→delivery"] == [pytest.approx(0.5)]
    assert summary.hops["billing→D365 invoice"] == []
    assert set(summary.hops) == {name for name, *_ in HOPS}


def test_the_summary_line_names_every_hop_seen_with_its_p50_and_p99() -> None:
    summary = Summary(created=3, completed=1)
    for order, seconds in (("1", 0.4), ("2", 0.6), ("3", 2.2)):
        summary.observe(_journey(order, s4_order=seconds))
    text = summary.text(in_flight=2, elapsed_s=60.0)
    assert text == (
        "orders created 3, in flight 2, completed 1, in DLQ 0; 1.0 completed/min; "
        "p50/p99 webhook→S/4 order 0.6/2.2 s"
    )
    assert "p50/p99" not in Summary().text(in_flight=0, elapsed_s=0.0)
