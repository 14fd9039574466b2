"""Poller checkpoints in the compacted ``ingress.checkpoints`` topic (key = poller id)."""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaException, Message

from isthmus.kafka.scan import ScanError, TopicTable
from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas import AvroDeserializer, DecodeError

logger = logging.getLogger(__name__)


def load_checkpoints(
    *,
    settings: KafkaSettings,
    topic: str,
    deserializer: AvroDeserializer,
    budget_s: float = 20.0,
) -> dict[str, dict[str, Any]]:
    """The latest checkpoint per poller id (empty when the topic is missing or empty)."""
    found: dict[str, dict[str, Any]] = {}

    def apply(message: Message) -> None:
        key = (message.key() or b"").decode()
        if message.value() is None:
            found.pop(key, None)
            return
        try:
            value = deserializer(message.value())
        except DecodeError:
            logger.warning("undecodable checkpoint skipped", extra={"poller": key})
            return
        if isinstance(value, dict):
            found[key] = value

    table = TopicTable(kafka=settings, topics=[topic], name="ingress-checkpoints")
    try:
        table.load(apply, timeout_s=budget_s, missing_ok=True)
    except (KafkaException, ScanError) as exc:
        logger.warning("checkpoints not read (%s); pollers start from scratch", exc)
    finally:
        table.close()
    return found
