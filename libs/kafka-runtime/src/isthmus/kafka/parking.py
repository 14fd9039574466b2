"""Per-key order across retries: which keys have records parked in a retry topic.

While a key has a record in a retry topic, later records with that key are parked behind it, in
arrival order, and only the oldest (the head) may be processed. The state per key is the ordered
list of parked record origins (``topic/partition/offset``); it is written to the compacted
``<group>.parked`` topic (a tombstone once the key is free), so it survives restarts.
"""

from __future__ import annotations

import json


class ParkedKeys:
    """The parked-key bookkeeping of one consumer group (pure, no I/O)."""

    def __init__(self) -> None:
        self._queues: dict[bytes, list[str]] = {}

    def __len__(self) -> int:
        return len(self._queues)

    def __contains__(self, key: object) -> bool:
        return key in self._queues

    def queue(self, key: bytes) -> list[str]:
        """The origins parked for ``key``, oldest first (a copy)."""
        return list(self._queues.get(key, ()))

    def may_process(self, key: bytes | None, origin: str) -> bool:
        """True when the record ``origin`` of ``key`` is not behind an earlier parked record."""
        if key is None:
            return True
        queue = self._queues.get(key)
        return not queue or queue[0] == origin

    def park(self, key: bytes, origin: str) -> bool:
        """Add ``origin`` to the end of ``key``'s queue; False when it was there already."""
        queue = self._queues.setdefault(key, [])
        if origin in queue:
            return False
        queue.append(origin)
        return True

    def release(self, key: bytes, origin: str) -> bool:
        """Remove ``origin`` from ``key``'s queue; True when the queue changed."""
        queue = self._queues.get(key)
        if not queue or origin not in queue:
            return False
        queue.remove(origin)
        if not queue:
            del self._queues[key]
        return True

    def encode(self, key: bytes) -> bytes | None:
        """The ``<group>.parked`` value for ``key``: its queue as JSON, or None (tombstone)."""
        queue = self._queues.get(key)
        return json.dumps(queue).encode() if queue else None

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record of the ``<group>.parked`` topic (later records win)."""
        if value is None:
            self._queues.pop(key, None)
            return
        try:
            queue = json.loads(value)
        except ValueError:
            return  # not ours; never let a stray record stop the loop
        if isinstance(queue, list) and queue and all(isinstance(o, str) for o in queue):
            self._queues[key] = queue
        else:
            self._queues.pop(key, None)

    def clear(self) -> None:
        """Forget everything (before reloading from the topic)."""
        self._queues.clear()
