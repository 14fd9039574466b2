"""Per-key order across retries: which keys have records parked in a retry topic.

While a key has a record in a retry topic, later records with that key from the SAME source topic
are parked behind it, in arrival order, and only the oldest (the head) may be processed. Order is
kept per stream (source topic and key): Kafka orders nothing across topics, and a record of one
command topic (a delivery waiting for its order) must not hold back another topic's record with
the same key (the order's own create). The state per stream is the ordered queue of parked record
origins (``topic/partition/offset``); it is written to the compacted ``<group>.parked`` topic under
the stream key ``<source topic> NUL <key>`` as one ``io.isthmus.common.ParkedStream`` record (a
tombstone once the stream is free), so it survives restarts. The Avro codec is injected by the
composition root (this package does not depend on ``isthmus.schemas``).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.records import DeserializerLike, SerializerLike

logger = logging.getLogger(__name__)

SEPARATOR = b"\x00"
PARKED_SCHEMA = "io.isthmus.common.ParkedStream"
"""The catalogue's value schema of every ``<group>.parked`` topic (deploy/topics.yaml)."""


def stream_key(key: bytes, origin: str) -> bytes:
    """The parked-topic key of ``key`` on the source topic named in ``origin`` (topic/p/offset)."""
    return origin.rsplit("/", 2)[0].encode() + SEPARATOR + key


@dataclass(frozen=True)
class ParkedCodec:
    """Encodes and decodes the values of one ``<group>.parked`` topic (schema ParkedStream)."""

    serializer: SerializerLike
    deserializer: DeserializerLike


@dataclass(frozen=True)
class Parked:
    """One parked record: where it was read from, when it was parked and where it waits."""

    origin: str
    parked_at_ms: int
    retry_topic: str | None = None


class ParkedKeys:
    """The parked-key bookkeeping of one consumer group (pure apart from the injected codec)."""

    def __init__(
        self, *, group: str = "", topic: str = "", codec: ParkedCodec | None = None
    ) -> None:
        """Track the streams of ``group``, persisted to ``topic`` with ``codec``.

        Without a codec the values are the same record as JSON (tools and tests only).
        """
        self._queues: dict[bytes, list[Parked]] = {}
        self._group = group
        self._codec = codec
        self._ctx = SerializationContext(topic or f"{group}.parked", MessageField.VALUE)

    def __len__(self) -> int:
        return len(self._queues)

    def __bool__(self) -> bool:
        return bool(self._queues)

    def holds(self, key: bytes | None, origin: str) -> bool:
        """True when the stream of ``key`` and ``origin`` has records parked."""
        return key is not None and bool(self._queues) and stream_key(key, origin) in self._queues

    def queue(self, key: bytes, origin: str) -> list[str]:
        """The origins parked on the stream of ``key`` and ``origin``, oldest first (a copy)."""
        return [p.origin for p in self._queues.get(stream_key(key, origin), ())]

    def may_process(self, key: bytes | None, origin: str) -> bool:
        """True when the record ``origin`` of ``key`` is not behind an earlier parked record."""
        if key is None or not self._queues:
            return True
        queue = self._queues.get(stream_key(key, origin))
        return not queue or queue[0].origin == origin

    def park(
        self,
        key: bytes,
        origin: str,
        *,
        retry_topic: str | None = None,
        now_ms: int | None = None,
    ) -> bool:
        """Add ``origin`` to the end of its stream's queue; False when it was there already."""
        queue = self._queues.setdefault(stream_key(key, origin), [])
        if any(p.origin == origin for p in queue):
            return False
        queue.append(Parked(origin=origin, parked_at_ms=_ms(now_ms), retry_topic=retry_topic))
        return True

    def release(self, key: bytes, origin: str) -> bool:
        """Remove ``origin`` from its stream's queue; True when the queue changed."""
        stream = stream_key(key, origin)
        queue = self._queues.get(stream)
        if not queue or not any(p.origin == origin for p in queue):
            return False
        queue[:] = [p for p in queue if p.origin != origin]
        if not queue:
            del self._queues[stream]
        return True

    def record(
        self, key: bytes, origin: str, *, now_ms: int | None = None
    ) -> tuple[bytes, bytes | None]:
        """The ``<group>.parked`` record of the stream: (stream key, encoded value or None).

        Raises:
            Exception: whatever the injected serializer raises for a record it cannot encode.
        """
        stream = stream_key(key, origin)
        queue = self._queues.get(stream)
        if not queue:
            return stream, None
        value = to_record(group=self._group, key=key, queue=queue, now_ms=_ms(now_ms))
        if self._codec is None:
            return stream, json.dumps(value).encode()
        return stream, self._codec.serializer(value, self._ctx)

    def apply(self, key: bytes, value: bytes | None) -> None:
        """Apply one record of the ``<group>.parked`` topic (later records win).

        Records not keyed by stream (no NUL separator) are not ours and are skipped; a value that
        does not decode is logged and skipped (a stray record never stops the loop).
        """
        if SEPARATOR not in key:
            return
        if value is None:
            self._queues.pop(key, None)
            return
        try:
            decoded = self._decode(value)
            queue = from_record(decoded)
        except Exception as exc:  # the injected codec raises its own error types
            logger.warning("parked record skipped: %s: %s", type(exc).__name__, exc)
            return
        if queue:
            self._queues[key] = queue
        else:
            self._queues.pop(key, None)

    def clear(self) -> None:
        """Forget everything (before reloading from the topic)."""
        self._queues.clear()

    def _decode(self, value: bytes) -> Any:
        if self._codec is None:
            return json.loads(value)
        return self._codec.deserializer(value, self._ctx)


def to_record(*, group: str, key: bytes, queue: list[Parked], now_ms: int) -> dict[str, Any]:
    """The ParkedStream record of one stream's queue (timestamps in epoch milliseconds)."""
    try:
        carried: str | bytes = key.decode()
    except UnicodeDecodeError:
        carried = key  # not UTF-8: carried as the raw bytes
    return {
        "consumerGroup": group,
        "sourceTopic": queue[0].origin.rsplit("/", 2)[0],
        "key": carried,
        "origins": [_origin_record(p) for p in queue],
        "updatedAt": now_ms,
    }


def from_record(record: Any) -> list[Parked]:
    """The queue a decoded ParkedStream record describes.

    Raises:
        ValueError: the record is not a ParkedStream (wrong type or missing fields).
    """
    if not isinstance(record, dict):
        raise ValueError(f"not a ParkedStream record: {type(record).__name__}")
    try:
        topic = str(record["sourceTopic"])
        return [
            Parked(
                origin=f"{topic}/{int(o['sourcePartition'])}/{int(o['sourceOffset'])}",
                parked_at_ms=_to_ms(o["parkedAt"]),
                retry_topic=o.get("retryTopic"),
            )
            for o in record["origins"]
        ]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a ParkedStream record: {exc!r}") from exc


def _origin_record(parked: Parked) -> dict[str, Any]:
    _, partition, offset = parked.origin.rsplit("/", 2)
    return {
        "sourcePartition": int(partition),
        "sourceOffset": int(offset),
        "retryTopic": parked.retry_topic,
        "parkedAt": parked.parked_at_ms,
    }


def _to_ms(value: Any) -> int:
    if isinstance(value, datetime):
        return round(value.timestamp() * 1000)
    return int(value)


def _ms(now_ms: int | None) -> int:
    return int(time.time() * 1000) if now_ms is None else now_ms
