"""Load the parked-key set of a consumer group from its compacted ``<group>.parked`` topic."""

from __future__ import annotations

import logging

from confluent_kafka import Message

from isthmus.kafka.errors import FatalError
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.scan import ScanError, TopicTable
from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)


def load_parked(
    *, kafka: KafkaSettings, topic: str, keys: ParkedKeys, timeout_s: float = 30.0
) -> None:
    """Replace ``keys`` with the committed contents of ``topic``, read to its end.

    Raises:
        FatalError: the topic does not exist or could not be read to its end in time.
    """

    def apply(message: Message) -> None:
        if message.key() is not None:
            keys.apply(message.key() or b"", message.value())

    table = TopicTable(kafka=kafka, topics=[topic], name="parked-loader")
    try:
        keys.clear()
        table.load(apply, timeout_s=timeout_s)
    except ScanError as exc:
        raise FatalError(
            f"parked keys not loaded from {topic} ({exc}); is the group's topic provisioned?"
        ) from exc
    finally:
        table.close()
    logger.info("parked keys loaded", extra={"topic": topic, "keys": len(keys)})
