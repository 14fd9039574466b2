"""The cross references a sink knows: the compacted ``xref.ids`` topic read in the background."""

from __future__ import annotations

import logging
import threading
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from isthmus.kafka.settings import KafkaSettings

logger = logging.getLogger(__name__)


class XrefTable:
    """Every key ever written to ``xref.ids`` (tombstones remove), kept current by a thread.

    Keys follow the catalogue: ``<entity>:<d365 id>`` and ``<entity>:s4:<s4 id>``.
    """

    def __init__(self, *, kafka: KafkaSettings, topic: str) -> None:
        self._kafka = kafka
        self._topic = topic
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="xref-reader", daemon=True)

    def start(self) -> None:
        """Start reading from the beginning of the topic."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the reader thread."""
        self._stop.set()
        self._thread.join(timeout=10)

    def has(self, key: str) -> bool:
        """Whether ``key`` (e.g. ``account:s4:10100001``) is linked."""
        with self._lock:
            return key in self._keys

    def add(self, key: str) -> None:
        """Remember a link this process wrote itself (before it comes back from Kafka)."""
        with self._lock:
            self._keys.add(key)

    def _run(self) -> None:
        consumer = Consumer(
            {
                **self._kafka.client_config(),
                "group.id": f"isthmus-xref-reader-{uuid.uuid4().hex}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
            }
        )
        try:
            self._assign(consumer)
            while not self._stop.is_set():
                for message in consumer.consume(num_messages=500, timeout=0.5):
                    if message.error() is None and message.key() is not None:
                        self._apply(message.key() or b"", message.value())
        except KafkaException as exc:
            logger.error("xref reader stopped: %s", exc)
        finally:
            consumer.close()

    def _assign(self, consumer: Consumer) -> None:
        metadata = consumer.list_topics(self._topic, timeout=30)
        described = metadata.topics.get(self._topic)
        partitions = sorted(described.partitions) if described and not described.error else []
        if not partitions:
            logger.warning(
                "xref topic %s not found; prerequisites are checked in the target", self._topic
            )
        consumer.assign([TopicPartition(self._topic, p, OFFSET_BEGINNING) for p in partitions])

    def _apply(self, key: bytes, value: bytes | None) -> None:
        text = key.decode("utf-8", errors="replace")
        with self._lock:
            if value is None:
                self._keys.discard(text)
            else:
                self._keys.add(text)
