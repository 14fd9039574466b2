"""Per-key order inside one poll: split commands into waves of distinct keys (pure).

Wave ``i`` holds the ``i``-th command of every key, in poll order, so a wave can run
concurrently or as one target batch while a key's later command always runs in a later wave.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

T = TypeVar("T")


def waves(items: Sequence[T], *, key: Callable[[T], Hashable]) -> list[list[T]]:
    """Group ``items`` into waves; within a wave every key appears once, order kept per key."""
    result: list[list[T]] = []
    depth: dict[Hashable, int] = {}
    for item in items:
        k = key(item)
        index = depth.get(k, 0)
        depth[k] = index + 1
        if index == len(result):
            result.append([])
        result[index].append(item)
    return result


def chunks(items: Sequence[T], *, size: int) -> list[list[T]]:
    """Split ``items`` into lists of at most ``size`` (the target's batch limit)."""
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
