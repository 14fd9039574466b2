"""The fault matrix's verdicts as a Markdown table, a terminal table and docs/reliability.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .checker import Verdict

COLUMNS = (
    "scenario",
    "events",
    "lost",
    "duplicates",
    "order violations",
    "DLQ exact",
    "recovery (s)",
    "audit complete",
    "result",
)
"""The report's columns: ``Verdict.row()`` and the result (a scenario names its matrix number)."""

INVARIANTS = (
    "Each scenario runs the pipeline under steady load while one fault is injected, then checks "
    "six invariants over event ids. No loss: every event the ingress acknowledged was applied "
    "in the target or dead-lettered, never both, and nothing else was. No duplicate side "
    "effect: each key and sequence number was applied effectively at most once (idempotent "
    "no-op replays are allowed and counted). Order per key: a key's effective applies never go "
    "back to a lower sequence number. DLQ exactness: the dead-letter topics hold exactly the "
    "poison records the scenario injected, each with its error headers and original bytes. "
    "Liveness: consumer lag settles within the scenario's budget after the fault clears, so "
    "no consumer is left stuck. Audit completeness: the audit consumer saw exactly the "
    "acknowledged events."
)
"""The paragraph at the top of docs/reliability.md."""

SETUP = (
    "The system under test is every service as a process (restarted when it exits, as "
    "Kubernetes would), a broker and a schema registry of the suite's own, the ingress and "
    "the transformer reaching the broker through a TCP fault proxy and every service reaching "
    "the registry through another, and both sandboxes. The load is order-to-cash: one D365 "
    "sales order per second. Each order is two events: its Create (acknowledged when the "
    "ingress answered Dataverse's webhook 2xx, applied when its S/4 sales order exists, matched "
    "by the customer reference) and its write-back (acknowledged once the S/4 order exists, "
    "applied when the D365 order carries that S/4 number). With each order one demo "
    "customer's phone number changes (every fourth time twice in a row): a per-key sequence, "
    "acknowledged when Dataverse's Update webhook was answered 2xx and applied when S/4 wrote "
    "that number to the partner's address; S/4 must never go back to an older number, and an "
    "update whose event was read after the next change (so carried the later number) counts as "
    "superseded, not lost. Poison records the scenario writes "
    "past the ingress are expected in a DLQ and nowhere else. Orders whose webhook the ingress "
    "answered 5xx twice (Dataverse retries once) are not acknowledged: their produce may have "
    "been written all the same, so each may be applied once or not at all."
)
"""What the matrix runs against and what an event is, below the invariants."""


def _rows(verdicts: Sequence[Verdict]) -> list[tuple[str, ...]]:
    return [(*verdict.row(), verdict.result) for verdict in verdicts]


def _notes(verdicts: Sequence[Verdict]) -> list[str]:
    """One line per failed or pending row, naming what broke (or why it is pending)."""
    return [
        f"{verdict.scenario} ({verdict.result}): {'; '.join(verdict.failures())}"
        for verdict in verdicts
        if not verdict.ok
    ]


def summary(verdicts: Sequence[Verdict]) -> str:
    """``"12 passed, 1 failed, 1 pending"`` (kinds with no verdict left out)."""
    counts = Counter(verdict.result for verdict in verdicts)
    parts = [
        f"{counts[result]} {word}"
        for result, word in (("PASS", "passed"), ("FAIL", "failed"), ("PENDING", "pending"))
        if counts[result]
    ]
    return ", ".join(parts) or "no scenarios"


def markdown_table(verdicts: Sequence[Verdict]) -> str:
    """The verdicts as a GitHub-flavoured Markdown table, one row per scenario."""

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    rule = "|" + "---|" * len(COLUMNS)
    lines = [line(COLUMNS), rule, *(line(row) for row in _rows(verdicts))]
    return "\n".join(lines) + "\n"


def text_table(verdicts: Sequence[Verdict]) -> str:
    """The verdicts as an aligned plain-text table for the terminal, notes and summary below."""
    rows = [COLUMNS, *_rows(verdicts)]
    widths = [max(len(row[index]) for row in rows) for index in range(len(COLUMNS))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    lines = [line(rows[0]), "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows[1:]]
    lines += ["", *_notes(verdicts), summary(verdicts)]
    return "\n".join(text.rstrip() for text in lines) + "\n"


def reliability_markdown(verdicts: Sequence[Verdict], *, command: str, when: datetime) -> str:
    """The text of docs/reliability.md for one run of the matrix."""
    notes = _notes(verdicts)
    parts = [
        "# Reliability\n",
        INVARIANTS + "\n",
        SETUP + "\n",
        f"Run with `{command}` on {when.isoformat(sep=' ', timespec='minutes')}: "
        f"{summary(verdicts)}.\n",
        markdown_table(verdicts),
    ]
    if notes:
        parts.append("\n".join(f"- {note}" for note in notes) + "\n")
    return "\n".join(parts)


def write_reliability(
    path: Path, verdicts: Sequence[Verdict], *, command: str, when: datetime
) -> None:
    """Write the matrix's report to ``path`` (docs/reliability.md), creating its folder.

    Raises:
        OSError: ``path`` cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(reliability_markdown(verdicts, command=command, when=when), encoding="utf-8")
