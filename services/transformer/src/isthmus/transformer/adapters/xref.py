"""The LookupPort over the compacted ``xref.ids`` topic: read fully at start, then followed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.scan import ScanError, TopicTable
from isthmus.kafka.settings import KafkaSettings
from isthmus.transformer.errors import XrefLoadError
from isthmus.transformer.metrics import TransformerMetrics

logger = logging.getLogger(__name__)

Decoder = Callable[[bytes | None, SerializationContext | None], Any]


class CrossReferences:
    """``{entity: {d365 id: s4 id}}`` and its reverse; a LookupPort (misses answer None)."""

    def __init__(self) -> None:
        self._to_s4: dict[str, dict[str, str]] = {}
        self._to_d365: dict[str, dict[str, str]] = {}
        self._by_key: dict[bytes, tuple[str, str, str]] = {}

    def __len__(self) -> int:
        return len(self._by_key)

    def s4_id(self, *, entity: str, d365_id: str) -> str | None:
        """The S/4 id of a Dataverse id of ``entity``, or None."""
        return self._to_s4.get(entity, {}).get(d365_id)

    def d365_id(self, *, entity: str, s4_id: str) -> str | None:
        """The Dataverse id of an S/4 id of ``entity``, or None."""
        return self._to_d365.get(entity, {}).get(s4_id)

    def satisfied(self, keys: Sequence[str]) -> bool:
        """True when every ``xref.ids`` key is linked (the runtime's ``Waits``)."""
        return all(key.encode() in self._by_key for key in keys)

    def put(self, *, key: bytes, reference: Mapping[str, Any]) -> None:
        """Store one ``io.isthmus.common.CrossReference`` read under ``key``."""
        entity, d365, s4 = reference["entity"], reference["d365Id"], reference["s4Id"]
        self._to_s4.setdefault(entity, {})[d365] = s4
        self._to_d365.setdefault(entity, {})[s4] = d365
        self._by_key[key] = (entity, d365, s4)

    def delete(self, *, key: bytes) -> None:
        """Forget the reference a tombstone under ``key`` removes."""
        known = self._by_key.pop(key, None)
        if known is None:
            return
        entity, d365, s4 = known
        if self._to_s4.get(entity, {}).get(d365) == s4:
            del self._to_s4[entity][d365]
        if self._to_d365.get(entity, {}).get(s4) == d365:
            del self._to_d365[entity][s4]


class XrefFollower:
    """Reads ``xref.ids`` from the beginning into ``CrossReferences`` and keeps following it
    (every replica reads the whole table; see ``isthmus.kafka.scan.TopicTable``)."""

    def __init__(
        self,
        *,
        kafka: KafkaSettings,
        topic: str,
        decoder: Decoder,
        table: CrossReferences | None = None,
        metrics: TransformerMetrics | None = None,
    ) -> None:
        self.table = table or CrossReferences()
        self._topic = topic
        self._decoder = decoder
        self._metrics = metrics or TransformerMetrics.create()
        self._reader = TopicTable(kafka=kafka, topics=[topic], name="xref")

    def start(self, *, timeout_s: float) -> None:
        """Read the topic up to its current end, then follow it in a background thread.

        Raises:
            XrefLoadError: the topic has no partitions or was not read to its end in time.
        """
        try:
            self._reader.load(self._apply, timeout_s=timeout_s)
        except ScanError as exc:
            raise XrefLoadError(f"{self._topic} not loaded: {exc}") from exc
        logger.info("xref table loaded", extra={"topic": self._topic, "entries": len(self.table)})
        self._reader.follow(self._apply)

    def stop(self) -> None:
        """Stop following and close the consumer."""
        self._reader.close()

    def _apply(self, message: Message) -> None:
        key = message.key() or b""
        raw = message.value()
        if raw is None:
            self.table.delete(key=key)
            return
        try:
            ctx = SerializationContext(self._topic, MessageField.VALUE, message.headers())
            self.table.put(key=key, reference=self._decoder(raw, ctx))
        except Exception as exc:
            logger.error(
                "unreadable cross reference skipped: %s",
                exc,
                extra={
                    "topic": self._topic,
                    "partition": message.partition(),
                    "offset": message.offset(),
                },
            )
            return
        self._metrics.xref_entries.add(1)
