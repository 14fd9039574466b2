"""The fault matrix: each scenario's injection and how long it holds, and the run under load.

``ISTHMUS_FAULTS=full`` runs every automated scenario with longer windows (``make
test-faults``); the default is the scaled-down set ``make test`` runs. Scenarios the harness
does not automate yet are pending rows of the report, never silently absent.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass

from .checker import Verdict, check, pending
from .system import FaultSystem

Action = Callable[[FaultSystem], None]


def _nothing(_system: FaultSystem) -> None:
    return None


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix: inject, hold, clear."""

    number: int
    name: str
    inject: Action
    clear: Action = _nothing
    hold_s: float = 0.0
    variant: str = ""

    @property
    def title(self) -> str:
        return f"{self.number}{self.variant}. {self.name}"

    @property
    def order(self) -> tuple[int, str]:
        """Where the row sits in the report."""
        return (self.number, self.variant)


@dataclass(frozen=True)
class Scale:
    """How much load a run makes and how long it waits for recovery."""

    orders: int
    interval_s: float
    hold_factor: float
    liveness_budget_s: float


SCALES = {
    "ci": Scale(orders=12, interval_s=1.0, hold_factor=0.5, liveness_budget_s=240.0),
    "full": Scale(orders=60, interval_s=1.0, hold_factor=1.0, liveness_budget_s=300.0),
}


def scale() -> Scale:
    """The scale of this run (``ISTHMUS_FAULTS``: ``ci`` by default, or ``full``)."""
    return SCALES[os.environ.get("ISTHMUS_FAULTS", "ci")]


def _s4_unavailable(system: FaultSystem) -> None:
    system.s4.admin.add_fault(kind="error", status=503, path="*/sap/opu/odata/*")


def _s4_available(system: FaultSystem) -> None:
    system.s4.admin.clear_faults()


SCENARIOS = (
    Scenario(
        1,
        "broker restart, clean (SIGTERM, down 20 s)",
        inject=lambda s: s.broker_down(),
        clear=lambda s: s.broker_up(),
        hold_s=20,
    ),
    Scenario(
        2,
        "broker paused (SIGSTOP 30 s)",
        inject=lambda s: s.signal_broker(signal.SIGSTOP),
        clear=lambda s: s.signal_broker(signal.SIGCONT),
        hold_s=30,
    ),
    Scenario(3, "sap-sink crash mid-stream (kill -9)", inject=lambda s: s.kill_service("sap-sink")),
    Scenario(
        5,
        "S/4 answers 503 for 40 s",
        inject=_s4_unavailable,
        clear=_s4_available,
        hold_s=40,
    ),
    Scenario(
        3,
        "transformer crash mid-transaction (kill -9)",
        inject=lambda s: s.kill_service("transformer"),
        variant="b",
    ),
)
CI_SCENARIOS = (1, 3)

PENDING = {
    4: "429 with Retry-After at scaled service-protection limits",
    6: "ambiguous timeout (target applies, answer lost)",
    7: "token expiry and token endpoint down",
    8: "duplicate delivery (group reset, ingress re-send, lost produce ack)",
    9: "poison records (non-Avro, wrong magic byte, unknown schema id, oversize)",
    10: "compatible schema change mid-run",
    11: "incompatible schema change mid-run",
    12: "rebalance: a second sink instance mid-run, a max.poll.interval.ms overrun",
    13: "slow / lossy network to the broker (TCP proxy)",
    14: "schema registry down for 60 s",
    15: "drift behind the pipeline's back (needs the reconciler)",
}


def chosen() -> list[Scenario]:
    """The scenarios this run executes."""
    if os.environ.get("ISTHMUS_FAULTS", "ci") == "full":
        return list(SCENARIOS)
    return [s for s in SCENARIOS if s.number in CI_SCENARIOS]


def pending_verdicts() -> list[tuple[tuple[int, str], Verdict]]:
    """Rows of the scenarios not automated yet."""
    return [
        ((number, ""), pending(f"{number}. {name}", "not automated yet"))
        for number, name in sorted(PENDING.items())
    ]


def run(system: FaultSystem, scenario: Scenario, load: Scale) -> Verdict:
    """Drive ``load.orders`` orders, inject the fault a third of the way in, clear it after its
    hold, wait for the pipeline to drain, and check the six invariants.

    Orders whose webhook the ingress answered 5xx (twice: Dataverse retries once) are not
    acknowledged; they may still be applied, once (see ``check``'s ``unconfirmed``).
    """
    driver = system.driver
    before = set(driver.journeys)
    inject_at = max(1, load.orders // 3)
    hold_s = scenario.hold_s * load.hold_factor
    injected_at: float | None = None
    cleared_at: float | None = None
    created = 0
    next_order = time.monotonic()
    while created < load.orders or cleared_at is None:
        now = time.monotonic()
        if created < load.orders and now >= next_order:
            driver.create_order()
            created += 1
            next_order = now + load.interval_s
        if injected_at is None and created >= inject_at:
            scenario.inject(system)
            injected_at = time.monotonic()
        if injected_at is not None and cleared_at is None and now - injected_at >= hold_s:
            scenario.clear(system)
            cleared_at = time.monotonic()
        _poll(system)
        time.sleep(0.5)
    return _settle(system, scenario.title, before, cleared_at, load.liveness_budget_s)


def _poll(system: FaultSystem) -> None:
    """Let the driver do the human steps; the systems may be away during a fault."""
    try:
        system.driver.poll()
    except Exception:  # a fault may make any read fail; the next poll retries
        return


@dataclass(frozen=True)
class SoakSample:
    """One soak sample: minutes in, pipeline lag, resident memory of each service (MiB)."""

    minute: float
    lag: int
    rss_mib: dict[str, float]


def soak(
    system: FaultSystem, *, duration_s: float, sample_s: float, interval_s: float = 2.0
) -> tuple[Verdict, list[SoakSample]]:
    """Steady load with no fault for ``duration_s``, sampling lag and RSS every ``sample_s``."""
    driver = system.driver
    before = set(driver.journeys)
    started = time.monotonic()
    samples: list[SoakSample] = []
    next_order = next_sample = started
    while (now := time.monotonic()) - started < duration_s:
        if now >= next_order:
            driver.create_order()
            next_order = now + interval_s
        if now >= next_sample:
            ours = {o: j for o, j in driver.journeys.items() if o not in before}
            numbers = {j.order_number: o for o, j in ours.items()}
            lag = system.outstanding(set(ours), numbers).lag
            samples.append(SoakSample((now - started) / 60, lag, system.rss_mib()))
            next_sample = now + sample_s
        _poll(system)
        time.sleep(0.5)
    return _settle(system, "soak: steady load, no fault", before, None, 300.0), samples


def _settle(
    system: FaultSystem,
    title: str,
    before: set[str],
    cleared_at: float | None,
    budget_s: float,
) -> Verdict:
    """Wait until every acknowledged order is in S/4 (or the budget is gone), then check."""
    ours = {o: j for o, j in system.driver.journeys.items() if o not in before}
    ids = set(ours)
    numbers = {j.order_number: o for o, j in ours.items()}
    deadline = (cleared_at or time.monotonic()) + budget_s
    lag = []
    while True:
        sample = system.outstanding(ids, numbers)
        lag.append(sample)
        if sample.lag == 0 or time.monotonic() > deadline:
            break
        _poll(system)
        time.sleep(1.0)
    return check(
        scenario=title,
        acked=system.acked(ids),
        applied=system.applied(numbers),
        dead_letters=[d for d in system.dead_letters() if d.event_id in ids],
        injected=[],
        audited_event_ids=system.audited(ids),
        lag=lag,
        fault_cleared_at=cleared_at,
        liveness_budget_s=budget_s,
        unconfirmed=system.refused(ids),
    )
