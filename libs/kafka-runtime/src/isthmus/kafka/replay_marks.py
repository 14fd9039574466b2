"""Which DLQ offsets were replayed already, kept in the replay group's committed offsets.

Per DLQ partition the replay group commits offset ``C`` with metadata listing replayed offset
ranges at or above ``C``: every record below ``C`` was replayed, a record at or above it was
replayed exactly when a range holds it. A partial replay (one key, one class) therefore never
hides the records it skipped, and never moves the same record twice by accident. Pure code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

_MAX_METADATA = 3_500  # the broker keeps 4,096 characters of offset metadata by default


@dataclass(frozen=True)
class ReplayMarks:
    """The replay state of one DLQ partition."""

    committed: int
    ranges: tuple[tuple[int, int], ...] = ()

    def replayed(self, offset: int) -> bool:
        """True when the record at ``offset`` was moved back before."""
        if offset < self.committed:
            return True
        return any(low <= offset <= high for low, high in self.ranges)

    def add(self, offsets: Iterable[int]) -> ReplayMarks:
        """The marks after also replaying ``offsets``; the committed offset moves over every
        leading replayed record.
        """
        merged = _merge([*self.ranges, *((o, o) for o in offsets if o >= self.committed)])
        committed = self.committed
        while merged and merged[0][0] <= committed:
            committed = max(committed, merged[0][1] + 1)
            merged.pop(0)
        return ReplayMarks(committed=committed, ranges=tuple(merged))

    def metadata(self) -> str:
        """The ranges as offset-commit metadata (JSON).

        Raises:
            ValueError: too many scattered ranges for the broker's metadata limit.
        """
        text = json.dumps([list(r) for r in self.ranges], separators=(",", ":"))
        if len(text) > _MAX_METADATA:
            raise ValueError("too many scattered replayed ranges; replay a contiguous range")
        return text

    @classmethod
    def parse(cls, *, committed: int, metadata: str | None) -> ReplayMarks:
        """Read the marks back from a committed offset (negative: none) and its metadata."""
        try:
            loaded = json.loads(metadata) if metadata else []
            ranges = [(int(low), int(high)) for low, high in loaded]
        except (ValueError, TypeError):
            ranges = []  # foreign metadata: trust only the committed offset
        return cls(committed=max(committed, 0), ranges=tuple(_merge(ranges))).add(())


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged
