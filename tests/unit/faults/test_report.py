"""The fault matrix's report: Markdown and terminal tables, and docs/reliability.md."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.faults.checker import Finding, Verdict, pending
from tests.faults.report import (
    COLUMNS,
    markdown_table,
    summary,
    text_table,
    write_reliability,
)

pytestmark = pytest.mark.unit


def _verdicts() -> list[Verdict]:
    return [
        Verdict(
            scenario="broker restart, clean", events=1200, recovery_s=4.26, liveness_budget_s=30
        ),
        Verdict(
            scenario="target timeouts | ambiguous outcome",
            events=800,
            duplicates=Finding(count=2, examples=("e7", "e9")),
            recovery_s=None,
            liveness_budget_s=30,
        ),
        pending("reconciler drift", "the reconciler is not built yet"),
    ]


def test_the_markdown_table_has_one_row_per_verdict_with_its_result() -> None:
    lines = markdown_table(_verdicts()).splitlines()
    assert lines[0] == "| " + " | ".join(COLUMNS) + " |"
    assert lines[1] == "|---|---|---|---|---|---|---|---|---|"
    assert lines[2] == "| broker restart, clean | 1200 | 0 | 0 | 0 | yes | 4.3 | yes | PASS |"
    assert lines[3] == (
        "| target timeouts \\| ambiguous outcome | 800 | 0 | 2 | 0 | yes | none | yes | FAIL |"
    )
    assert lines[4] == "| reconciler drift | - | - | - | - | - | - | - | PENDING |"
    assert len(lines) == 5


def test_the_text_table_is_aligned_and_names_what_failed() -> None:
    text = text_table(_verdicts())
    lines = text.splitlines()
    assert lines[0].split("  ")[0] == "scenario"
    column = lines[0].index("events")
    assert (lines[2][column:].split()[0], lines[3][column:].split()[0]) == ("1200", "800")
    assert lines[4][lines[0].index("result") :] == "PENDING"
    assert lines[1].startswith("--------")
    assert lines[2].startswith("broker restart, clean")
    assert (
        "target timeouts | ambiguous outcome (FAIL): duplicate effective applies: 2 (e7, e9)"
        in text
    )
    assert "reconciler drift (PENDING): the reconciler is not built yet" in text
    assert lines[-1] == "1 passed, 1 failed, 1 pending"


def test_the_summary_leaves_out_kinds_with_no_verdict() -> None:
    assert summary(_verdicts()[:1]) == "1 passed"
    assert summary([]) == "no scenarios"


def test_write_reliability_writes_title_invariants_command_date_and_table(tmp_path: Path) -> None:
    path = tmp_path / "docs" / "reliability.md"
    when = datetime(2026, 11, 27, 14, 5, tzinfo=UTC)
    write_reliability(path, _verdicts(), command="make faults", when=when)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Reliability\n\n")
    for invariant in (
        "No loss",
        "No duplicate side effect",
        "Order per key",
        "DLQ exactness",
        "Liveness",
        "Audit completeness",
    ):
        assert f"{invariant}:" in text
    assert (
        "Run with `make faults` on 2026-11-27 14:05+00:00: 1 passed, 1 failed, 1 pending." in text
    )
    assert markdown_table(_verdicts()) in text
    assert "- reconciler drift (PENDING): the reconciler is not built yet\n" in text
    assert text.endswith("\n")
    assert not text.endswith("\n\n\n")
