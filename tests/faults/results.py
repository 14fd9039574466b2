"""The verdicts of this run and the restarts the supervisor made, for the session's report."""

from __future__ import annotations

from .checker import Verdict

RESULTS: list[tuple[tuple[int, str], Verdict]] = []
RESTARTS: list[str] = []
SOAK: list[str] = []
"""The soak's sample lines (minute, lag, RSS per service), printed after the matrix."""


def record(order: tuple[int, str], verdict: Verdict) -> None:
    """Keep one scenario's verdict for the report, sorted by matrix number and variant."""
    RESULTS.append((order, verdict))
