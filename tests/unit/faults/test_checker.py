"""The oracle's six invariants, each passing on a clean run and failing on a hand-made one."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from tests.faults.checker import EXAMPLES, Finding, Verdict, check, pending
from tests.faults.ledger import Acked, Applied, DeadLetter, Injected, LagSample

pytestmark = pytest.mark.unit

_HEADERS = {"isthmus_error_class": b"invalid", "isthmus_error_message": b"not Avro"}


def _applied(event_id: str, key: str, seq: int, at: float, *, effective: bool = True) -> Applied:
    return Applied(
        event_id=event_id, key=key, seq=seq, effective=effective, request_id=f"r-{at}", at=at
    )


@dataclass
class Run:
    """A clean run: keys A and B with two events each, and one poison record dead-lettered."""

    acked: list[Acked] = field(
        default_factory=lambda: [
            Acked("a1", "A", 1),
            Acked("b1", "B", 1),
            Acked("a2", "A", 2),
            Acked("b2", "B", 2),
            Acked("bad", "C", 1),
        ]
    )
    applied: list[Applied] = field(
        default_factory=lambda: [
            _applied("a1", "A", 1, 1.0),
            _applied("b1", "B", 1, 1.1),
            _applied("a2", "A", 2, 1.2),
            _applied("b2", "B", 2, 1.3),
        ]
    )
    dead_letters: list[DeadLetter] = field(
        default_factory=lambda: [DeadLetter("bad", "sap-sink.dlq", dict(_HEADERS), b"\x00junk")]
    )
    injected: list[Injected] = field(default_factory=lambda: [Injected("bad", b"\x00junk")])
    audited: list[str] = field(default_factory=lambda: ["a1", "b1", "a2", "b2", "bad"])
    lag: list[LagSample] = field(
        default_factory=lambda: [LagSample(10.0, 40), LagSample(12.0, 3), LagSample(13.5, 0)]
    )
    fault_cleared_at: float | None = 11.0
    budget_s: float = 5.0

    def check(self, **overrides: Any) -> Verdict:
        arguments: dict[str, Any] = {
            "scenario": "broker restart, clean",
            "acked": self.acked,
            "applied": self.applied,
            "dead_letters": self.dead_letters,
            "injected": self.injected,
            "audited_event_ids": self.audited,
            "lag": self.lag,
            "fault_cleared_at": self.fault_cleared_at,
            "liveness_budget_s": self.budget_s,
        }
        return check(**(arguments | overrides))


def _failing(verdict: Verdict) -> list[str]:
    names = ("no_loss", "no_duplicates", "in_order", "dlq_exact", "live", "audit_complete")
    return [name for name in names if not getattr(verdict, name)]


def test_a_clean_run_passes_every_invariant() -> None:
    verdict = Run().check()
    assert verdict.ok
    assert verdict.result == "PASS"
    assert _failing(verdict) == []
    assert verdict.events == 5
    assert verdict.recovery_s == pytest.approx(2.5)
    assert verdict.failures() == []
    assert verdict.row() == ("broker restart, clean", "5", "0", "0", "0", "yes", "2.5", "yes")


def test_an_acked_event_neither_applied_nor_dead_lettered_is_lost() -> None:
    run = Run()
    run.applied = [row for row in run.applied if row.event_id != "b2"]
    verdict = run.check()
    assert verdict.lost == Finding(count=1, examples=("b2",))
    assert _failing(verdict) == ["no_loss"]
    assert verdict.row()[2] == "1"
    assert verdict.result == "FAIL"


def test_an_update_whose_state_came_with_a_later_one_of_its_key_is_superseded_not_lost() -> None:
    run = Run()
    run.applied = [row for row in run.applied if row.event_id != "a1"]
    assert run.check().lost.examples == ("a1",)
    verdict = run.check(superseded=["a1"])
    assert verdict.ok
    assert verdict.events == 5


def test_only_an_effective_apply_counts_as_applied() -> None:
    run = Run()
    run.applied[3] = replace(run.applied[3], effective=False)
    assert run.check().lost.examples == ("b2",)


def test_an_event_applied_and_dead_lettered_breaks_no_loss() -> None:
    run = Run()
    run.applied.append(_applied("bad", "C", 1, 2.0))
    verdict = run.check()
    assert verdict.lost.count == 0
    assert verdict.applied_and_dead == Finding(count=1, examples=("bad",))
    assert _failing(verdict) == ["no_loss"]
    assert "both applied and dead-lettered: 1 (bad)" in verdict.failures()


def test_an_effect_nobody_acknowledged_breaks_no_loss() -> None:
    run = Run()
    run.applied.append(_applied("ghost", "A", 3, 2.0))
    verdict = run.check()
    assert verdict.unacked.examples == ("ghost",)
    assert _failing(verdict) == ["no_loss"]


def test_an_event_answered_5xx_may_still_be_applied_once() -> None:
    # The produce timed out in flight, so the ingress said "retry", yet the broker wrote it.
    run = Run()
    run.applied.append(_applied("maybe", "A", 3, 2.0))
    run.audited.append("maybe")
    verdict = run.check(unconfirmed=["maybe", "never-arrived"])
    assert _failing(verdict) == []
    assert verdict.unconfirmed_applied == 1
    assert verdict.events == 5


def test_an_event_answered_5xx_applied_twice_is_still_a_duplicate() -> None:
    run = Run()
    run.applied += [_applied("maybe", "A", 3, 2.0), _applied("maybe", "A", 3, 2.1)]
    verdict = run.check(unconfirmed=["maybe"])
    assert _failing(verdict) == ["no_duplicates"]


def test_a_second_effective_apply_of_a_key_and_seq_is_a_duplicate() -> None:
    run = Run()
    run.applied.append(_applied("a2", "A", 2, 1.4))
    verdict = run.check()
    assert verdict.duplicates == Finding(count=1, examples=("a2",))
    assert _failing(verdict) == ["no_duplicates"]
    assert verdict.row()[3] == "1"


def test_idempotent_no_op_replays_are_counted_not_duplicates() -> None:
    run = Run()
    run.applied += [
        _applied("a2", "A", 2, 1.4, effective=False),
        _applied("a2", "A", 2, 1.5, effective=False),
        _applied("a1", "A", 1, 1.6, effective=False),  # an old replay does not break the order
    ]
    verdict = run.check()
    assert verdict.ok
    assert (verdict.duplicates.count, verdict.noops) == (0, 3)


def test_an_apply_after_a_higher_seq_of_its_key_is_an_order_violation() -> None:
    run = Run()
    # a2 lands before a1; B is recorded out of time order but applied in order.
    run.applied = [
        _applied("a2", "A", 2, 1.0),
        _applied("b2", "B", 2, 1.3),
        _applied("a1", "A", 1, 1.2),
        _applied("b1", "B", 1, 1.1),
    ]
    verdict = run.check()
    assert verdict.order_violations == Finding(count=1, examples=("a1",))
    assert _failing(verdict) == ["in_order"]
    assert verdict.row()[4] == "1"


def test_every_apply_behind_a_higher_seq_is_counted() -> None:
    acked = [Acked(f"e{seq}", "K", seq) for seq in (1, 2, 3, 4, 5)]
    applied = [_applied(f"e{seq}", "K", seq, float(at)) for at, seq in enumerate((1, 5, 2, 3, 4))]
    verdict = Run().check(
        acked=acked, applied=applied, dead_letters=[], injected=[], audited_event_ids=["e1"]
    )
    assert verdict.order_violations.examples == ("e2", "e3", "e4")


def test_a_dead_letter_set_unlike_the_injected_set_is_not_exact() -> None:
    run = Run()
    run.injected.append(Injected("never-seen", b"oversize"))
    verdict = run.check()
    assert verdict.dlq_missing.examples == ("never-seen",)
    assert _failing(verdict) == ["dlq_exact"]
    assert verdict.row()[5] == "no"

    run = Run()
    run.injected = []
    verdict = run.check()
    assert verdict.dlq_unexpected.examples == ("bad",)
    assert _failing(verdict) == ["dlq_exact"]


@pytest.mark.parametrize("missing", ["isthmus_error_class", "isthmus_error_message"])
def test_a_dead_letter_without_a_required_header_is_not_exact(missing: str) -> None:
    run = Run()
    headers = {name: value for name, value in _HEADERS.items() if name != missing}
    run.dead_letters = [replace(run.dead_letters[0], headers=headers)]
    verdict = run.check()
    assert verdict.dlq_without_headers.examples == ("bad",)
    assert _failing(verdict) == ["dlq_exact"]


def test_the_required_headers_can_be_chosen() -> None:
    verdict = Run().check(required_dlq_headers=("isthmus_error_class", "isthmus_error_stage"))
    assert verdict.dlq_without_headers.examples == ("bad",)


@pytest.mark.parametrize("value", [b"\x00junk-reencoded", None])
def test_a_dead_letter_whose_bytes_differ_from_the_injected_ones_is_not_exact(
    value: bytes | None,
) -> None:
    run = Run()
    run.dead_letters = [replace(run.dead_letters[0], value=value)]
    verdict = run.check()
    assert verdict.dlq_changed_bytes.examples == ("bad",)
    assert _failing(verdict) == ["dlq_exact"]


def test_poison_written_past_the_ingress_is_dead_lettered_without_an_acknowledgement() -> None:
    run = Run()
    run.acked = [a for a in run.acked if a.event_id != "bad"]
    run.audited = [e for e in run.audited if e != "bad"]
    verdict = run.check()
    assert verdict.ok
    assert verdict.events == 4

    run.applied.append(_applied("bad", "C", 1, 2.0))
    verdict = run.check()
    assert verdict.unacked.examples == ("bad",)
    assert verdict.applied_and_dead.examples == ("bad",)


def test_the_bytes_of_a_dead_letter_are_not_compared_when_the_injector_did_not_know_them() -> None:
    run = Run()
    run.injected = [Injected("bad", None)]
    run.dead_letters = [replace(run.dead_letters[0], value=b"a command the transformer wrote")]
    verdict = run.check()
    assert verdict.dlq_exact
    assert verdict.ok


def test_lag_settling_within_the_budget_is_live_and_after_it_is_not() -> None:
    run = Run()
    assert run.check(liveness_budget_s=2.5).live
    verdict = run.check(liveness_budget_s=2.0)
    assert _failing(verdict) == ["live"]
    assert verdict.row()[6] == "2.5"
    assert "lag settled after 2.5 s (budget 2.0 s)" in verdict.failures()


def test_lag_that_never_settles_after_the_fault_is_not_live() -> None:
    run = Run()
    # The zero before the fault cleared does not count.
    lag = [LagSample(9.0, 0), LagSample(12.0, 5), LagSample(14.0, 1)]
    verdict = run.check(lag=lag)
    assert verdict.recovery_s is None
    assert _failing(verdict) == ["live"]
    assert verdict.row()[6] == "none"
    assert "lag never settled after the fault cleared (budget 5.0 s)" in verdict.failures()
    assert run.check(lag=lag, settled_lag=1).recovery_s == pytest.approx(3.0)


def test_a_scenario_without_a_fault_recovers_in_no_time() -> None:
    verdict = Run().check(fault_cleared_at=None, lag=[])
    assert verdict.recovery_s == 0.0
    assert verdict.live


def test_the_audit_must_see_exactly_the_acked_events() -> None:
    run = Run()
    run.audited = ["a1", "b1", "a2", "bad", "stray"]
    verdict = run.check()
    assert verdict.audit_missing.examples == ("b2",)
    assert verdict.audit_extra.examples == ("stray",)
    assert _failing(verdict) == ["audit_complete"]
    assert verdict.row()[7] == "no"


def test_a_finding_keeps_its_count_but_only_the_first_examples() -> None:
    acked = [Acked(f"e{index:03}", "K", index) for index in range(1, 51)]
    verdict = Run().check(acked=acked, applied=[], audited_event_ids=[a.event_id for a in acked])
    assert verdict.lost.count == 50
    assert verdict.lost.examples == tuple(f"e{index:03}" for index in range(1, EXAMPLES + 1))


def test_a_pending_verdict_is_a_visible_row_that_neither_passes_nor_fails() -> None:
    verdict = pending("reconciler drift", "the reconciler does not exist yet")
    assert verdict.pending
    assert not verdict.ok
    assert verdict.result == "PENDING"
    assert verdict.row() == ("reconciler drift", "-", "-", "-", "-", "-", "-", "-")
    assert verdict.failures() == ["the reconciler does not exist yet"]
