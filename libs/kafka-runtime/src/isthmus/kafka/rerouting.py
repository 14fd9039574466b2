"""Rerouting of records that cannot go on now: retry tiers, the DLQ, parking behind a key."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from confluent_kafka import Message

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.delivery import Delivery
from isthmus.kafka.errors import ErrorClass, FatalError, Stage
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.routing import Routes, classify
from isthmus.telemetry.metrics import RuntimeMetrics

logger = logging.getLogger(__name__)


class Rerouter:
    """Produces retry, DLQ and parked copies of records and keeps the parked keys current."""

    def __init__(self, *, routes: Routes, parked: ParkedKeys, metrics: RuntimeMetrics) -> None:
        self._routes = routes
        self._parked = parked
        self._metrics = metrics

    def fail(
        self,
        message: Message,
        exc: Exception,
        *,
        stage: Stage,
        info: h.ErrorInfo | None,
        origin: str,
        delivery: Delivery,
        now: datetime,
    ) -> None:
        """Send a failed record to its next retry tier or the DLQ, by the error's class.

        Raises:
            FatalError: the error is fatal; nothing was produced for the record.
        """
        error_class = classify(exc, stage=stage)
        self._metrics.failed.add(1, {"error.class": error_class.value, "stage": stage.value})
        where = _where(message)
        if error_class is ErrorClass.FATAL:
            raise FatalError(f"{type(exc).__name__}: {exc}", stage=stage, **where) from exc
        new = failures.next_error_info(
            previous=info,
            error_class=error_class.value,
            message=f"{type(exc).__name__}: {exc}",
            stage=stage.value,
            topic=message.topic() or "",
            partition=message.partition() or 0,
            offset=message.offset() or 0,
            now=now,
        )
        tier = self._routes.next_tier(message.topic() or "")
        key = message.key()
        if error_class is ErrorClass.RETRYABLE and tier is not None:
            due = int(now.timestamp() * 1000) + tier.delay_ms
            headers = failures.retry_headers(h.of(message), info=new, due_ms=due)
            delivery.produce(tier.topic, key, message.value(), headers)
            self._metrics.retried.add(1, {"topic": tier.topic})
            now_ms = int(now.timestamp() * 1000)
            if key is not None and self._parked.park(
                key, origin, retry_topic=tier.topic, now_ms=now_ms
            ):
                self._write_parked(key, origin, delivery)
            logger.warning("record sent to %s: %s", tier.topic, exc, extra=where)
            return
        headers = failures.dlq_headers(h.of(message), info=new)
        delivery.produce(self._routes.dlq, key, message.value(), headers)
        self._metrics.dead_lettered.add(1, {"error.class": error_class.value})
        if key is not None and self._parked.release(key, origin):
            self._write_parked(key, origin, delivery)
        logger.warning("record dead-lettered to %s: %s", self._routes.dlq, exc, extra=where)

    def park(
        self,
        message: Message,
        key: bytes,
        *,
        origin: str,
        info: h.ErrorInfo | None,
        delivery: Delivery,
        now: datetime,
    ) -> None:
        """Send a record to a retry tier behind the head of its key's queue (not a failure)."""
        topic = message.topic() or ""
        index = self._routes.tier_index(topic)
        tier = self._routes.tiers[index or 0]
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
        due = int(now.timestamp() * 1000) + tier.delay_ms
        headers = failures.parked_headers(h.of(message), info=parked, head=head, due_ms=due)
        delivery.produce(tier.topic, key, message.value(), headers)
        self._metrics.parked.add(1, {"topic": tier.topic})
        if self._parked.park(key, origin, retry_topic=tier.topic, now_ms=due - tier.delay_ms):
            self._write_parked(key, origin, delivery)

    def release(self, key: bytes, origin: str, delivery: Delivery) -> None:
        """Forget ``origin`` of ``key`` after it succeeded; publish the key's new state."""
        if self._parked.release(key, origin):
            self._write_parked(key, origin, delivery)

    def _write_parked(self, key: bytes, origin: str, delivery: Delivery) -> None:
        stream, queue = self._parked.record(key, origin)
        delivery.produce(self._routes.parked, stream, queue, [])


def _where(message: Message) -> dict[str, Any]:
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "key": message.key(),
    }
