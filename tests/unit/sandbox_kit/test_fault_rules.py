"""Fault rule matching under both policies: stacked latency, limits removed or kept, bodies."""

from __future__ import annotations

import pytest

from isthmus.sandbox_kit.faults import FaultPolicy, FaultRule, FaultRules

pytestmark = pytest.mark.unit
STACKING = FaultPolicy(latency_stacks=True, exhausted="removed")
FIRST_WINS = FaultPolicy(latency_stacks=False, exhausted="kept")


class Rule(FaultRule):
    """A rule with a hit limit and an optional body condition."""

    times: int | None = None
    needle: str | None = None

    def limit(self) -> int | None:
        return self.times

    def wants_body(self) -> bool:
        return self.needle is not None

    def matches_body(self, body: bytes) -> bool:
        return self.needle is None or self.needle.encode() in body


def _rule(rule_id: str, kind: str, **fields: object) -> Rule:
    return Rule.model_validate({"id": rule_id, "kind": kind, **fields})


def test_path_glob_and_method() -> None:
    rule = _rule("a", "error", path="/api/*/orders*", method="post")
    assert rule.applies(method="POST", path="/api/v1/orders(1)")
    assert not rule.applies(method="GET", path="/api/v1/orders(1)")
    assert not rule.applies(method="POST", path="/api/v1/items")
    assert _rule("b", "error").applies(method="DELETE", path="/anything")


def test_stacking_adds_latency_and_picks_the_first_other_rule() -> None:
    rules: FaultRules[Rule] = FaultRules(policy=STACKING)
    rules.add(_rule("slow", "latency", latency_ms=100))
    rules.add(_rule("fail", "status", latency_ms=5))
    rules.add(_rule("second", "status"))
    rules.add(_rule("slower", "latency", latency_ms=20))
    found = rules.match(method="GET", path="/x")
    assert (found.latency_ms, found.rule and found.rule.id) == (125, "fail")
    assert [r.hits for r in rules.rules] == [1, 1, 0, 1]


def test_first_wins_applies_one_rule_whatever_its_kind() -> None:
    rules: FaultRules[Rule] = FaultRules(policy=FIRST_WINS, seed=0)
    rules.add(_rule("slow", "latency", latency_ms=100))
    rules.add(_rule("fail", "error"))
    found = rules.match(method="GET", path="/x")
    assert (found.latency_ms, found.rule and found.rule.id) == (100, "slow")
    assert [r.hits for r in rules.rules] == [1, 0]


def test_a_rule_at_its_limit_is_removed_or_kept() -> None:
    removing: FaultRules[Rule] = FaultRules(policy=STACKING)
    keeping: FaultRules[Rule] = FaultRules(policy=FIRST_WINS)
    for rules in (removing, keeping):
        rules.add(_rule("once", "error", times=1))
        assert rules.match(method="GET", path="/x").rule is not None
        assert rules.match(method="GET", path="/x").rule is None
    assert removing.rules == []
    assert [(r.id, r.hits) for r in keeping.rules] == [("once", 1)]


def test_rate_zero_never_fires_and_body_conditions_apply() -> None:
    rules: FaultRules[Rule] = FaultRules(policy=FIRST_WINS)
    rules.add(_rule("never", "error", rate=0.0))
    rules.add(_rule("body", "error", needle="4711", path="/orders"))
    assert rules.wants_body(method="POST", path="/orders")
    assert not rules.wants_body(method="POST", path="/other")
    assert rules.match(method="POST", path="/orders", body=b'{"n":"1"}').rule is None
    found = rules.match(method="POST", path="/orders", body=b'{"n":"4711"}')
    assert found.rule is not None and found.rule.id == "body"


def test_remove_and_clear() -> None:
    rules: FaultRules[Rule] = FaultRules(policy=STACKING)
    rules.add(_rule("a", "error"))
    rules.add(_rule("b", "error"))
    assert rules.remove("a") and not rules.remove("a")
    rules.clear()
    assert rules.rules == []
