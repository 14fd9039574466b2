"""Rebuild the de-duplication window after a restart from the records produced recently.

Every produced record carries ``ce_source``/``ce_id``/``ce_type``, so reading the event topics
from ``now - window`` (offsets by timestamp) restores the ids without decoding a value.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from isthmus.ingress.core.dedup import DedupWindow
from isthmus.kafka import headers as h
from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)


def restore_window(
    *,
    settings: KafkaSettings,
    topics: Iterable[str],
    dedup: DedupWindow,
    window_s: float,
    budget_s: float = 20.0,
) -> int:
    """Remember the ids of records produced in the last ``window_s``; return how many."""
    consumer = Consumer(
        {
            **settings.client_config(),
            "group.id": f"ingress-restore-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
        }
    )
    try:
        partitions = _start_positions(consumer, topics, window_s)
        if not partitions:
            return 0
        consumer.assign(partitions)
        return _read(consumer, dedup, len(partitions), time.monotonic() + budget_s)
    except KafkaException:
        logger.warning("de-duplication window not restored (Kafka unavailable)")
        return 0
    finally:
        consumer.close()


def _start_positions(
    consumer: Consumer, topics: Iterable[str], window_s: float
) -> list[TopicPartition]:
    metadata = consumer.list_topics(timeout=5)
    since_ms = int((time.time() - window_s) * 1000)
    wanted = [
        TopicPartition(topic, partition, since_ms)
        for topic in topics
        if topic in metadata.topics and not metadata.topics[topic].error
        for partition in metadata.topics[topic].partitions
    ]
    if not wanted:
        return []
    found = consumer.offsets_for_times(wanted, timeout=10)
    return [tp for tp in found if tp.offset >= 0]


def _read(consumer: Consumer, dedup: DedupWindow, partitions: int, deadline: float) -> int:
    restored = 0
    finished = 0
    now_ms = time.time() * 1000
    while finished < partitions and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is None:
            continue
        if message.error() is not None:
            finished += 1
            continue
        pairs = h.of(message)
        ids = [h.get_str(pairs, name) for name in (h.CE_SOURCE, h.CE_ID, h.CE_TYPE)]
        if all(ids):
            age_s = max(0.0, (now_ms - message.timestamp()[1]) / 1000)
            dedup.remember("|".join(str(part) for part in ids), age_s=age_s)
            restored += 1
    return restored
