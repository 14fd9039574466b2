"""The fault suite's system (module scope) and the report every run prints and may write."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4
from isthmus.testing.system import reset_sandboxes

from .report import text_table, write_reliability
from .results import RESTARTS, RESULTS, SOAK
from .scenarios import pending_verdicts
from .system import FaultSystem, running_system

REPORT_ENV = "ISTHMUS_FAULTS_REPORT"
"""Path of the reliability report to write (``make test-faults`` sets docs/reliability.md)."""


@pytest.fixture(scope="module")
def fault_system(
    repo_root: Path,
    sandbox_d365: SandboxD365,
    sandbox_s4: SandboxS4,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[FaultSystem]:
    """Own broker, every service supervised, sandboxes wired, demo customers in S/4."""
    reset_sandboxes(sandbox_d365, sandbox_s4)
    with running_system(
        repo_root=repo_root,
        d365=sandbox_d365,
        s4=sandbox_s4,
        log_dir=tmp_path_factory.mktemp("fault-logs"),
        on_restart=lambda name, code: RESTARTS.append(f"{name} exited {code}"),
    ) as system:
        yield system


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Print the matrix; write it to ``$ISTHMUS_FAULTS_REPORT`` when set."""
    if not RESULTS:
        return
    verdicts = [v for _n, v in sorted([*RESULTS, *pending_verdicts()], key=lambda r: r[0])]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    text = text_table(verdicts)
    if reporter is not None:
        reporter.write_line("")
        reporter.write_line("fault matrix (restarts: " + (", ".join(RESTARTS) or "none") + ")")
        for line in [*text.splitlines(), *SOAK]:
            reporter.write_line(line)
    target = os.environ.get(REPORT_ENV)
    if target:
        write_reliability(
            Path(target),
            verdicts,
            command="make test-faults",
            when=dt.datetime.now(dt.UTC),
        )
