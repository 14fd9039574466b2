"""Per-key order across retries: which keys have records parked in a retry topic.

While a key has a record in a retry topic, later records with that key from the SAME source topic
are parked behind it, in arrival order, and only the oldest (the head) may be processed. Order is
kept per stream (source topic and key): Kafka orders nothing across topics, and a record of one
command topic (a delivery waiting for its order) must not hold back another topic's record with
the same key (the order's own create). The state per stream is the ordered list of parked record
origins (``topic/partition/offset``); it is written to the compacted ``<group>.parked`` topic under
the stream key ``<source topic> NUL <key>`` (a tombstone once the stream is free), so it survives
restarts.
"""

from __future__ import annotations

import json

SEPARATOR = b"\x00"


def stream_key(key: bytes, origin: str) -> bytes:
    """The parked-topic key of ``key`` on the source topic named in ``origin`` (topic/p/offset)."""
    return origin.rsplit("/", 2)[0].encode() + SEPARATOR + key


class ParkedKeys:
    """The parked-key bookkeeping of one consumer group (pure, no I/O)."""

    def __init__(self) -> None:
        self._queues: dict[bytes, list[str]] = {}

    def __len__(self) -> int:
        return len(self._queues)

    def __bool__(self) -> bool:
        return bool(self._queues)

    def holds(self, key: bytes | None, origin: str) -> bool:
        """True when the stream of ``key`` and ``origin`` has records parked."""
        return key is not None and bool(self._queues) and stream_key(key, origin) in self._queues

    def queue(self, key: bytes, origin: str) -> list[str]:
        """The origins parked on the stream of ``key`` and ``origin``, oldest first (a copy)."""
        return list(self._queues.get(stream_key(key, origin), ()))

    def may_process(self, key: bytes | None, origin: str) -> bool:
        """True when the record ``origin`` of ``key`` is not behind an earlier parked record."""
        if key is None or not self._queues:
            return True
        queue = self._queues.get(stream_key(key, origin))
        return not queue or queue[0] == origin

    def park(self, key: bytes, origin: str) -> bool:
        """Add ``origin`` to the end of its stream's queue; False when it was there already."""
        queue = self._queues.setdefault(stream_key(key, origin), [])
        if origin in queue:
            return False
        queue.append(origin)
        return True

    def release(self, key: bytes, origin: str) -> bool:
        """Remove ``origin`` from its stream's queue; True when the queue changed."""
        stream = stream_key(key, origin)
        queue = self._queues.get(stream)
        if not queue or origin not in queue:
            return False
        queue.remove(origin)
        if not queue:
            del self._queues[stream]
        return True

    def record(self, key: bytes, origin: str) -> tuple[bytes, bytes | None]:
        """The ``<group>.parked`` record of the stream: (stream key, queue as JSON or None)."""
        stream = stream_key(key, origin)
        queue = self._queues.get(stream)
        return stream, (json.dumps(queue).encode() if queue else None)

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record of the ``<group>.parked`` topic (later records win).

        Records not keyed by stream (no NUL separator) are not ours and are skipped.
        """
        if SEPARATOR not in key:
            return
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
