"""The latency bench's pure parts: schedule, hops from audit events, summaries, catch-up."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime

import pytest

from tests.bench.latency.figures import (
    HOPS,
    Journey,
    Ledger,
    Stage,
    Step,
    Summary,
    effect_of,
    histogram,
    hop_histograms,
    journey_rate,
    poisson_offsets,
    record,
    verdict,
)
from tests.bench.latency.report import CatchUp, backlog, drained, hop_table

pytestmark = pytest.mark.unit


def _audit(
    service: str, entity: str, key: str, target: str, at: float, *, outcome: str = "SUCCEEDED"
):
    return {
        "service": service,
        "entity": entity,
        "businessKey": key,
        "targetId": target,
        "outcome": outcome,
        "occurredAt": datetime.fromtimestamp(at, tz=UTC),
    }


def test_poisson_offsets_are_seeded_increasing_and_have_the_rate() -> None:
    offsets = poisson_offsets(rate=50, duration_s=200, seed=7)
    assert offsets == poisson_offsets(rate=50, duration_s=200, seed=7)
    assert offsets != poisson_offsets(rate=50, duration_s=200, seed=8)
    assert all(b > a for a, b in itertools.pairwise(offsets))
    assert offsets[0] > 0
    assert offsets[-1] < 200
    assert len(offsets) == pytest.approx(10_000, rel=0.05)
    gaps = [b - a for a, b in itertools.pairwise(offsets)]
    # exponential gaps: the standard deviation equals the mean (a fixed gap would have none)
    assert statistics.pstdev(gaps) == pytest.approx(statistics.mean(gaps), rel=0.1)


def test_poisson_offsets_refuse_a_rate_of_zero() -> None:
    with pytest.raises(ValueError, match="positive"):
        poisson_offsets(rate=0, duration_s=10, seed=1)


def test_effect_of_reads_only_the_sink_hops_that_end_a_stage() -> None:
    effect = effect_of(_audit("sap-sink", "salesorder", "o1", "5", 100.25))
    assert effect is not None
    assert (effect.stage, effect.key, effect.target, effect.at) == (
        Stage.S4_ORDER,
        "o1",
        "5",
        100.25,
    )
    assert effect_of(_audit("sap-sink", "salesorder", "o1", "5", 1, outcome="RETRIED")) is None
    assert effect_of(_audit("transformer", "salesorder", "o1", "5", 1)) is None
    assert effect_of(_audit("sap-sink", "businesspartner", "a1", "17", 1)) is None


def _walk(ledger: Ledger) -> list[tuple[Step, str]]:
    """One order through every hop; returns the human steps made due, in order."""
    steps = []
    events = [
        ("sap-sink", "salesorder", "o1", "5", 11.0),
        ("d365-sink", "salesorder", "o1", "o1", 12.0),
        ("sap-sink", "outbounddelivery", "o1", "800", 14.0),
    ]
    for service, entity, key, target, at in events:
        effect = effect_of(_audit(service, entity, key, target, at))
        assert effect is not None
        for due in ledger.observe(effect):
            ledger.sent(due, at=at + 0.5)
            steps.append((due.step, due.subject))
    journey = ledger.journeys["o1"]
    for due in ledger.billed(journey, billing="900"):
        steps.append((due.step, due.subject))
    for service, entity, key, target, at in [
        ("d365-sink", "invoice", "900", "inv1", 16.0),
        ("sap-sink", "journalentry", "inv1", "100", 18.0),
    ]:
        effect = effect_of(_audit(service, entity, key, target, at))
        assert effect is not None
        for due in ledger.observe(effect):
            ledger.sent(due, at=at + 0.5)
            steps.append((due.step, due.subject))
    return steps


def test_ledger_turns_effects_into_the_demo_steps_and_every_hop() -> None:
    ledger = Ledger()
    ledger.add(order_id="o1", intended=10.0)
    steps = _walk(ledger)
    assert steps == [(Step.FULFIL, "o1"), (Step.BILLING_RUN, "800"), (Step.MARK_PAID, "inv1")]
    journey = ledger.journeys["o1"]
    journey.at[Stage.BILLING_RUN] = 15.0  # the bench notes it when it sends the run
    assert journey.done
    measured = {name: h.get_max_value() / 1e6 for name, h in hop_histograms([journey]).items()}
    assert measured == pytest.approx(
        {
            "webhook → S/4 order": 1.0,
            "S/4 order → D365 write-back": 1.0,
            "shipment → delivery": 1.5,
            "billing → D365 invoice": 1.0,
            "invoice → journal entry": 1.5,
            "end to end (to the D365 invoice)": 6.0,
        },
        rel=1e-3,
    )
    assert [hop.name for hop in HOPS] == list(measured)


def test_an_effect_before_its_order_is_known_is_applied_when_it_is() -> None:
    ledger = Ledger()
    early = effect_of(_audit("sap-sink", "salesorder", "o2", "6", 20.5))
    assert early is not None
    assert ledger.observe(early) == []
    ledger.add(order_id="o2", intended=20.0)
    assert ledger.journeys["o2"].at[Stage.S4_ORDER] == 20.5
    assert ledger.journeys["o2"].s4_order == "6"


def test_only_the_first_effect_of_a_stage_counts() -> None:
    ledger = Ledger()
    ledger.add(order_id="o3", intended=1.0)
    first = effect_of(_audit("d365-sink", "salesorder", "o3", "o3", 2.0))
    again = effect_of(_audit("d365-sink", "salesorder", "o3", "o3", 9.0, outcome="DUPLICATE"))
    assert first is not None and again is not None
    assert [d.step for d in ledger.observe(first)] == [Step.FULFIL]
    assert ledger.observe(again) == []
    assert ledger.journeys["o3"].at[Stage.WRITE_BACK] == 2.0


def test_summary_reads_percentiles_in_seconds_and_clamps_negative_latencies() -> None:
    recorded = histogram()
    for millis in range(1, 1001):
        record(recorded, millis / 1000)
    record(recorded, -0.0004)
    summary = Summary.of(recorded)
    assert summary.count == 1001
    assert summary.p50 == pytest.approx(0.5, rel=0.01)
    assert summary.p99 == pytest.approx(0.99, rel=0.01)
    assert summary.p999 == pytest.approx(0.999, rel=0.01)
    assert recorded.get_min_value() == 1
    assert math.isnan(Summary.of(histogram()).p50)


def test_verdicts_and_the_table() -> None:
    assert verdict(1.5, at_most=2) == "met"
    assert verdict(2.5, at_most=2) == "not met"
    assert verdict(3.5, at_least=3) == "met"
    assert verdict(float("nan"), at_most=2) == "no figure"
    table = hop_table({"25%": {"hop a": Summary(3, 0.012, 0.5, 1.25, 2.0)}})
    assert table.splitlines()[2] == "| hop a | 12 ms / 500 ms / 1.25 s (3) |"


def test_backlog_drain_and_catch_up_multiple() -> None:
    ends = {("a", 0): 100, ("a", 1): 50, ("a", 2): 30}
    at_stop = {("a", 0): 90, ("a", 1): 20, ("a", 2): 30}
    committed = {("a", 0): 40}  # partitions 1 and 2: no commit yet
    assert backlog(committed=committed, ends=ends, baseline=at_stop) == 60 + 30 + 0
    assert not drained(committed=committed, targets=ends, baseline=at_stop)
    drained_now = {("a", 0): 100, ("a", 1): 60}
    assert drained(committed=drained_now, targets=ends, baseline=at_stop)
    catch_up = CatchUp(backlog=600, outage_s=120, arrived=600, drain_s=50, ready_s=10)
    assert catch_up.input_rate == 5
    assert catch_up.drain_rate == 12
    assert catch_up.multiple == pytest.approx(2.4)
    assert catch_up.multiple_after_ready == pytest.approx(3.0)
    assert "not met" in catch_up.line()


def test_journey_rate_is_the_whole_journeys_over_the_burst_s_whole_time() -> None:
    # Four orders created at 0-0.3 s; three reach their D365 invoice, the last at 10.0 s.
    journeys = [
        Journey(
            order_id="a", at={Stage.INTENDED: 100.0, Stage.S4_ORDER: 100.5, Stage.INVOICE: 104.0}
        ),
        Journey(
            order_id="b", at={Stage.INTENDED: 100.1, Stage.S4_ORDER: 100.6, Stage.INVOICE: 107.0}
        ),
        Journey(
            order_id="c", at={Stage.INTENDED: 100.2, Stage.S4_ORDER: 100.7, Stage.INVOICE: 110.0}
        ),
        Journey(order_id="d", at={Stage.INTENDED: 100.3, Stage.S4_ORDER: 100.8}),
    ]

    assert journey_rate(journeys) == pytest.approx(3 / 10.0)


def test_journey_rate_without_a_finished_journey_is_zero() -> None:
    assert journey_rate([Journey(order_id="a", at={Stage.INTENDED: 1.0})]) == 0.0
    assert journey_rate([]) == 0.0
