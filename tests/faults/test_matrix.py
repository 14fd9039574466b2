"""Every automated scenario of the fault matrix under steady order-to-cash load, checked by the
six invariants (``make test`` runs the scaled-down set, ``make test-faults`` all of them)."""

from __future__ import annotations

import os

import pytest

from .results import SOAK, record
from .scenarios import Scenario, chosen, run, scale, soak
from .system import FaultSystem

pytestmark = pytest.mark.faults
SOAK_S = float(os.environ.get("ISTHMUS_SOAK_S", "60"))
SOAK_SAMPLE_S = float(os.environ.get("ISTHMUS_SOAK_SAMPLE_S", "10"))


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", chosen(), ids=lambda s: f"s{s.number}{s.variant}")
def test_scenario_loses_and_duplicates_nothing(
    fault_system: FaultSystem, scenario: Scenario
) -> None:
    verdict = run(fault_system, scenario, scale())
    record(scenario.order, verdict)
    assert verdict.ok, "\n".join(verdict.failures())


@pytest.mark.timeout(SOAK_S + 900)
def test_soak_keeps_every_invariant_and_reports_lag_and_memory(fault_system: FaultSystem) -> None:
    verdict, samples = soak(fault_system, duration_s=SOAK_S, sample_s=SOAK_SAMPLE_S)
    record((100, "soak"), verdict)
    SOAK.append(f"soak {SOAK_S:.0f} s: minute, lag, RSS MiB per service")
    for sample in samples:
        memory = ", ".join(f"{name} {mib:.0f}" for name, mib in sample.rss_mib.items())
        SOAK.append(f"  {sample.minute:5.1f}  lag {sample.lag:4d}  {memory}")
    assert samples, "no sample taken"
    assert verdict.ok, "\n".join(verdict.failures())
