"""The fault-matrix oracle: one verdict over a scenario's ledgers, invariant by invariant.

Every invariant is computed over event ids:

- no loss: every acknowledged event was applied effectively or dead-lettered, nothing else was
  (but the poison records the scenario wrote past the ingress, which are dead letters to be),
  and no event was both;
- no duplicate side effect: each (key, seq) has at most one effective apply; idempotent no-op
  replays are allowed and counted;
- order per key: in apply-time order, a key's effective applies never go back to a lower seq;
- DLQ exactness: the dead letters are exactly the injected poison records, each with the
  required error headers and its original bytes;
- liveness: lag settles within the budget after the fault clears;
- audit completeness: the audit consumer saw exactly the acknowledged events.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .ledger import Acked, Applied, DeadLetter, Injected, LagSample

EXAMPLES = 20
"""How many example event ids a finding keeps."""

REQUIRED_DLQ_HEADERS = ("isthmus_error_class", "isthmus_error_message")
"""Headers every dead letter carries (the error class decides what the consumer loop did)."""


@dataclass(frozen=True)
class Finding:
    """How many events broke one rule, and up to ``EXAMPLES`` of their ids (sorted)."""

    count: int = 0
    examples: tuple[str, ...] = ()

    @classmethod
    def of(cls, event_ids: Iterable[str]) -> Finding:
        """One finding per id given (repeats count, examples are distinct)."""
        ids = list(event_ids)
        return cls(count=len(ids), examples=tuple(sorted(set(ids))[:EXAMPLES]))

    def __bool__(self) -> bool:
        return self.count > 0


@dataclass(frozen=True)
class Verdict:
    """One scenario's result; a finding that is non-zero breaks its invariant.

    ``recovery_s`` is None when lag never settled after the fault cleared. A pending verdict
    (``pending_reason`` set) is a scenario that cannot run yet: it is neither ok nor failed.
    """

    scenario: str
    events: int = 0
    lost: Finding = field(default_factory=Finding)
    unacked: Finding = field(default_factory=Finding)
    applied_and_dead: Finding = field(default_factory=Finding)
    duplicates: Finding = field(default_factory=Finding)
    noops: int = 0
    unconfirmed_applied: int = 0
    order_violations: Finding = field(default_factory=Finding)
    dlq_missing: Finding = field(default_factory=Finding)
    dlq_unexpected: Finding = field(default_factory=Finding)
    dlq_without_headers: Finding = field(default_factory=Finding)
    dlq_changed_bytes: Finding = field(default_factory=Finding)
    recovery_s: float | None = 0.0
    liveness_budget_s: float = 0.0
    audit_missing: Finding = field(default_factory=Finding)
    audit_extra: Finding = field(default_factory=Finding)
    pending_reason: str | None = None

    @property
    def no_loss(self) -> bool:
        """Acked equals applied-effectively plus dead-lettered, and the two never overlap."""
        return not (self.lost or self.unacked or self.applied_and_dead)

    @property
    def no_duplicates(self) -> bool:
        """No (key, seq) was applied effectively more than once."""
        return not self.duplicates

    @property
    def in_order(self) -> bool:
        """No key's effective applies went back to a lower seq."""
        return not self.order_violations

    @property
    def dlq_exact(self) -> bool:
        """The dead letters are the injected records, with their headers and bytes."""
        return not (
            self.dlq_missing
            or self.dlq_unexpected
            or self.dlq_without_headers
            or self.dlq_changed_bytes
        )

    @property
    def live(self) -> bool:
        """Lag settled within the liveness budget after the fault cleared."""
        return self.recovery_s is not None and self.recovery_s <= self.liveness_budget_s

    @property
    def audit_complete(self) -> bool:
        """The audit consumer saw exactly the acknowledged events."""
        return not (self.audit_missing or self.audit_extra)

    @property
    def pending(self) -> bool:
        """The scenario could not run yet."""
        return self.pending_reason is not None

    @property
    def ok(self) -> bool:
        """All six invariants hold (never true for a pending verdict)."""
        return not self.pending and all(
            (
                self.no_loss,
                self.no_duplicates,
                self.in_order,
                self.dlq_exact,
                self.live,
                self.audit_complete,
            )
        )

    @property
    def result(self) -> str:
        """``PASS``, ``FAIL`` or ``PENDING``."""
        if self.pending:
            return "PENDING"
        return "PASS" if self.ok else "FAIL"

    def row(self) -> tuple[str, ...]:
        """The report's cells from scenario to audit complete (``-`` throughout when pending)."""
        if self.pending:
            return (self.scenario, *("-" for _ in range(7)))
        recovery = "none" if self.recovery_s is None else f"{self.recovery_s:.1f}"
        return (
            self.scenario,
            str(self.events),
            str(self.lost.count),
            str(self.duplicates.count),
            str(self.order_violations.count),
            _yes(self.dlq_exact),
            recovery,
            _yes(self.audit_complete),
        )

    def failures(self) -> list[str]:
        """One line per broken rule (the reason, for a pending verdict), for the report's notes."""
        if self.pending_reason is not None:
            return [self.pending_reason]
        lines = [
            f"{label}: {finding.count} ({', '.join(finding.examples)})"
            for label, finding in self._findings()
            if finding
        ]
        if not self.live:
            budget = f"budget {self.liveness_budget_s:.1f} s"
            if self.recovery_s is None:
                lines.append(f"lag never settled after the fault cleared ({budget})")
            else:
                lines.append(f"lag settled after {self.recovery_s:.1f} s ({budget})")
        return lines

    def _findings(self) -> list[tuple[str, Finding]]:
        return [
            ("lost", self.lost),
            ("applied or dead-lettered but never acknowledged", self.unacked),
            ("both applied and dead-lettered", self.applied_and_dead),
            ("duplicate effective applies", self.duplicates),
            ("applied after a higher seq of the same key", self.order_violations),
            ("injected but not dead-lettered", self.dlq_missing),
            ("dead-lettered but not injected", self.dlq_unexpected),
            ("dead letters without the required headers", self.dlq_without_headers),
            ("dead letters whose bytes differ from the injected ones", self.dlq_changed_bytes),
            ("acknowledged but not audited", self.audit_missing),
            ("audited but not acknowledged", self.audit_extra),
        ]


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def pending(scenario: str, reason: str) -> Verdict:
    """The verdict of a scenario that cannot run yet, shown as a pending row with ``reason``."""
    return Verdict(scenario=scenario, recovery_s=None, pending_reason=reason)


def check(
    *,
    scenario: str,
    acked: Iterable[Acked],
    applied: Iterable[Applied],
    dead_letters: Iterable[DeadLetter],
    injected: Iterable[Injected],
    audited_event_ids: Iterable[str],
    lag: Iterable[LagSample],
    fault_cleared_at: float | None,
    liveness_budget_s: float,
    required_dlq_headers: Sequence[str] = REQUIRED_DLQ_HEADERS,
    settled_lag: int = 0,
    unconfirmed: Iterable[str] = (),
    superseded: Iterable[str] = (),
) -> Verdict:
    """Check the six invariants of one scenario run.

    Args:
        scenario: the row's name in the report.
        acked: what the ingress acknowledged to the load generator.
        applied: every apply the target sandboxes recorded, effective or no-op.
        dead_letters: every record read back from the dead-letter topics.
        injected: the poison records the scenario produced on purpose.
        audited_event_ids: the event ids the audit consumer (read_committed) saw.
        lag: the consumer group's lag over the run.
        fault_cleared_at: when the fault was lifted, on the lag samples' clock; None for a
            scenario without one (recovery is then 0).
        liveness_budget_s: how long after ``fault_cleared_at`` lag may take to settle.
        required_dlq_headers: headers every dead letter must carry.
        settled_lag: the lag at or below which the group counts as caught up.
        unconfirmed: events the ingress answered with a retryable error (5xx). A record whose
            produce timed out while in flight may still have been written, so such an event
            may be applied (at most once, like any other) or not; neither breaks no loss or
            audit completeness. How many were applied anyway is counted.
        superseded: acknowledged updates whose state reached the target inside a later update
            of the same key (an event hydrated after the next change carries the later state);
            they are not lost.
    """
    acked_rows, applied_rows = list(acked), list(applied)
    dead_rows, injected_rows = list(dead_letters), list(injected)
    acked_ids = {row.event_id for row in acked_rows}
    effective = [row for row in applied_rows if row.effective]
    effective_ids = {row.event_id for row in effective}
    dead_ids = {row.event_id for row in dead_rows}
    audited = set(audited_event_ids)
    maybe = set(unconfirmed) - acked_ids
    poison = {row.event_id for row in injected_rows}
    dlq_missing, dlq_unexpected, dlq_without_headers, dlq_changed_bytes = _dlq_findings(
        dead_rows, injected_rows, required_dlq_headers
    )
    return Verdict(
        scenario=scenario,
        events=len(acked_ids),
        lost=Finding.of(acked_ids - effective_ids - dead_ids - set(superseded)),
        unacked=Finding.of(
            (effective_ids - acked_ids - maybe) | (dead_ids - acked_ids - maybe - poison)
        ),
        unconfirmed_applied=len((effective_ids | dead_ids) & maybe),
        applied_and_dead=Finding.of({row.event_id for row in applied_rows} & dead_ids),
        duplicates=_duplicates(effective),
        noops=len(applied_rows) - len(effective),
        order_violations=_order_violations(effective),
        dlq_missing=dlq_missing,
        dlq_unexpected=dlq_unexpected,
        dlq_without_headers=dlq_without_headers,
        dlq_changed_bytes=dlq_changed_bytes,
        recovery_s=_recovery(lag, fault_cleared_at=fault_cleared_at, settled_lag=settled_lag),
        liveness_budget_s=liveness_budget_s,
        audit_missing=Finding.of(acked_ids - audited),
        audit_extra=Finding.of(audited - acked_ids - maybe),
    )


def _duplicates(effective: Sequence[Applied]) -> Finding:
    """Every effective apply after the first of its (key, seq)."""
    seen: Counter[tuple[str, int]] = Counter()
    extra: list[str] = []
    for row in effective:
        seen[(row.key, row.seq)] += 1
        if seen[(row.key, row.seq)] > 1:
            extra.append(row.event_id)
    return Finding.of(extra)


def _order_violations(effective: Sequence[Applied]) -> Finding:
    """Every effective apply whose seq is lower than one already applied for its key.

    Applies are taken in ``at`` order; ties keep the order the sandbox recorded them in.
    """
    highest: dict[str, int] = {}
    late: list[str] = []
    for row in sorted(effective, key=lambda applied: applied.at):
        if row.seq < highest.get(row.key, row.seq):
            late.append(row.event_id)
        highest[row.key] = max(highest.get(row.key, row.seq), row.seq)
    return Finding.of(late)


def _dlq_findings(
    dead: Sequence[DeadLetter], injected: Sequence[Injected], required: Sequence[str]
) -> tuple[Finding, Finding, Finding, Finding]:
    """Injected but missing, dead but not injected, without headers, with other bytes."""
    dead_ids = {row.event_id for row in dead}
    sent = {row.event_id: row.value for row in injected}
    return (
        Finding.of(set(sent) - dead_ids),
        Finding.of(dead_ids - set(sent)),
        Finding.of(
            row.event_id for row in dead if any(name not in row.headers for name in required)
        ),
        Finding.of(
            row.event_id
            for row in dead
            if sent.get(row.event_id) is not None and row.value != sent[row.event_id]
        ),
    )


def _recovery(
    lag: Iterable[LagSample], *, fault_cleared_at: float | None, settled_lag: int
) -> float | None:
    """Seconds from the fault clearing to the first settled lag sample, None if none settled."""
    if fault_cleared_at is None:
        return 0.0
    for sample in sorted(lag, key=lambda sample: sample.at):
        if sample.at >= fault_cleared_at and sample.lag <= settled_lag:
            return sample.at - fault_cleared_at
    return None
