"""The cross references a sink knows: the compacted ``xref.ids`` topic read in the background."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from confluent_kafka import Message

from isthmus.kafka.scan import TopicTable
from isthmus.kafka.settings import KafkaSettings


class XrefKeys:
    """Every key ever written to ``xref.ids`` (tombstones remove), kept current by a thread.

    Keys follow the catalogue: ``<entity>:<d365 id>`` and ``<entity>:s4:<s4 id>``. A sink
    needs only whether a link exists (prerequisites are checked in the target when it does not
    know yet); the transformer's ``CrossReferences`` also maps the ids.
    """

    def __init__(self, *, kafka: KafkaSettings, topic: str) -> None:
        self._table = TopicTable(kafka=kafka, topics=[topic], name="xref")
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start reading from the beginning of the topic."""
        self._table.follow(self._apply)

    def stop(self) -> None:
        """Stop the reader thread."""
        self._table.close()

    def has(self, key: str) -> bool:
        """Whether ``key`` (e.g. ``account:s4:10100001``) is linked."""
        with self._lock:
            return key in self._keys

    def satisfied(self, keys: Sequence[str]) -> bool:
        """Whether every key is linked (the runtime's ``Waits``)."""
        with self._lock:
            return all(key in self._keys for key in keys)

    def add(self, key: str) -> None:
        """Remember a link this process wrote itself (before it comes back from Kafka)."""
        with self._lock:
            self._keys.add(key)

    def _apply(self, message: Message) -> None:
        if message.key() is None:
            return
        text = (message.key() or b"").decode("utf-8", errors="replace")
        with self._lock:
            if message.value() is None:
                self._keys.discard(text)
            else:
                self._keys.add(text)
