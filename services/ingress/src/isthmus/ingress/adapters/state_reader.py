"""Feed the state topics to echo detection (the sinks' WRITEs) and to change detection (all)."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence

from confluent_kafka import Consumer

from isthmus.ingress.core.changes import KnownStates
from isthmus.ingress.core.echo import LastWrites
from isthmus.kafka import headers as h
from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas import AvroDeserializer, DecodeError

logger = logging.getLogger(__name__)


class StateTopicReader:
    """A background consumer of compacted state topics, from the beginning, never committing."""

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
        self._settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ingress-state", daemon=True)
        self.applied = 0

    def start(self) -> None:
        """Start reading in the background."""
        if self._topics:
            self._thread.start()

    def stop(self) -> None:
        """Stop reading."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        consumer = Consumer(
            {
                **self._settings.client_config(),
                "group.id": f"ingress-state-{uuid.uuid4().hex}",
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
            }
        )
        consumer.subscribe(self._topics)
        try:
            while not self._stop.is_set():
                message = consumer.poll(0.2)
                if message is None or message.error() is not None:
                    continue
                self._apply(message.value(), h.of(message))
        finally:
            consumer.close()

    def _apply(self, raw: bytes | None, _headers: h.Headers) -> None:
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
