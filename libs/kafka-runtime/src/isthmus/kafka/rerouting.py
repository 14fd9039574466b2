"""Where a record that cannot go on now is copied to: its retry tier, the DLQ, or behind its key.

``Rerouter`` is the one writer of those copies and of the ``<group>.parked`` updates for every
consumer (the transformer's per-record steps, the sinks' outcomes). Which tier a failure goes to,
and what it counts in metrics, stays with the caller's policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from confluent_kafka import Message

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.routing import RetryTier, Routes


class Rerouter:
    """Produces retry, DLQ and parked copies of records and keeps the parked keys current."""

    def __init__(self, *, routes: Routes, parked: ParkedKeys) -> None:
        self._routes = routes
        self._parked = parked

    def retry(
        self,
        message: Message,
        *,
        tier: RetryTier,
        info: h.ErrorInfo,
        origin: str,
        delivery: Delivery,
        now: datetime,
        awaits: Sequence[str] = (),
    ) -> None:
        """Copy a failed record to ``tier``, due after its delay or once ``awaits`` is there;
        later records of its key park behind it."""
        now_ms = int(now.timestamp() * 1000)
        due_ms = now_ms + tier.delay_ms
        headers = failures.retry_headers(h.of(message), info=info, due_ms=due_ms, awaits=awaits)
        key = message.key()
        delivery.produce(tier.topic, key, message.value(), headers)
        if key is not None and self._parked.park(
            key, origin, retry_topic=tier.topic, now_ms=now_ms
        ):
            self._write_parked(key, origin, delivery, now=now)

    def dead_letter(
        self, message: Message, *, info: h.ErrorInfo, origin: str, delivery: Delivery, now: datetime
    ) -> None:
        """Copy a record to the group's DLQ with its reason; its key's next record may run."""
        headers = failures.dlq_headers(h.of(message), info=info)
        key = message.key()
        delivery.produce(self._routes.dlq, key, message.value(), headers)
        if key is not None:
            self.release(key, origin, delivery, now=now)

    def park(
        self,
        message: Message,
        key: bytes,
        *,
        origin: str,
        info: h.ErrorInfo | None,
        delivery: Delivery,
        now: datetime,
    ) -> RetryTier:
        """Send a record to a retry tier behind the head of its key's queue (not a failure);
        return the tier it went to."""
        topic = message.topic() or ""
        tier = self._routes.tiers[self._routes.tier_index(topic) or 0]
        head = self._parked.queue(key, origin)[0]
        parked = failures.next_error_info(
            previous=info,
            error_class=failures.PARKED_CLASS,
            message=f"waiting behind {head}",
            stage="order",
            topic=topic,
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            now=now,
        )
        now_ms = int(now.timestamp() * 1000)
        headers = failures.parked_headers(
            h.of(message), info=parked, head=head, due_ms=now_ms + tier.delay_ms
        )
        delivery.produce(tier.topic, key, message.value(), headers)
        if self._parked.park(key, origin, retry_topic=tier.topic, now_ms=now_ms):
            self._write_parked(key, origin, delivery, now=now)
        return tier

    def release(
        self, key: bytes, origin: str, delivery: Delivery, *, now: datetime | None = None
    ) -> None:
        """Forget ``origin`` of ``key`` after it ended; publish the key's new state."""
        if self._parked.release(key, origin):
            self._write_parked(key, origin, delivery, now=now)

    def _write_parked(
        self, key: bytes, origin: str, delivery: Delivery, *, now: datetime | None
    ) -> None:
        now_ms = None if now is None else int(now.timestamp() * 1000)
        stream, queue = self._parked.record(key, origin, now_ms=now_ms)
        delivery.produce(self._routes.parked, stream, queue, [])
