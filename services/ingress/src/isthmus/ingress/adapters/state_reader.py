"""Feed the state topics to echo detection (the sinks' WRITEs) and to change detection (all)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from confluent_kafka import Message

from isthmus.ingress.core.changes import KnownStates
from isthmus.ingress.core.echo import LastWrites
from isthmus.kafka.scan import TopicTable
from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas import AvroDeserializer, DecodeError

logger = logging.getLogger(__name__)


class StateTopicReader:
    """Follows the compacted state topics from the beginning, never committing."""

    def __init__(
        self,
        *,
        settings: KafkaSettings,
        topics: Sequence[str],
        deserializer: AvroDeserializer,
        writes: LastWrites,
        known: KnownStates | None = None,
    ) -> None:
        self._topics = list(topics)
        self._deserializer = deserializer
        self._writes = writes
        self._known = known
        self._table = TopicTable(kafka=settings, topics=self._topics, name="ingress-state")
        self.applied = 0

    def start(self) -> None:
        """Start reading in the background."""
        if self._topics:
            self._table.follow(self._read)

    def stop(self) -> None:
        """Stop reading."""
        self._table.close()

    def _read(self, message: Message) -> None:
        self._apply(message.value())

    def _apply(self, raw: bytes | None) -> None:
        if raw is None:
            return
        try:
            state = self._deserializer(raw)
        except DecodeError:
            logger.warning("undecodable state record skipped")
            return
        if not isinstance(state, dict):
            return
        system, key = str(state["system"]), str(state["key"])
        fields = state.get("fields") or {}
        if state.get("deleted"):
            self._writes.forget(system=system, key=key)
            if self._known is not None:
                self._known.forget(system=system, key=key)
            self.applied += 1
            return
        if state.get("source") == "WRITE":
            self._writes.record(system=system, key=key, fields=fields)
        if self._known is not None:
            self._known.apply(
                system=system, key=key, fields=fields, observed_at=state["observedAt"]
            )
        self.applied += 1
