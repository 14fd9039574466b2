"""The latency bench's Kafka side: audit follower, Kafka-side observer, bare round trip."""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, Message, Producer, TopicPartition
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.polling import take
from isthmus.schemas import SchemaSettings, SerdeFactory

SOURCE = "d365.salesorder.events"
COMMANDS = "s4.salesorder.commands"
BARE_TOPIC = "bench.latency.roundtrip"
# Observers ask the broker for data every 10 ms at most, so a record is seen within about
# 10 ms of becoming visible; the bare round trip's consumer reads with the same setting.
FETCH_WAIT_MS = "10"
_STAMP = struct.Struct(">dq")  # intended send time (epoch s), sequence number


def _consumer(bootstrap: str, group: str) -> Consumer:
    return Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "isolation.level": "read_committed", "fetch.wait.max.ms": FETCH_WAIT_MS,
    })  # fmt: skip


def _assign_at_end(consumer: Consumer, topics: list[str]) -> None:
    metadata = consumer.list_topics(timeout=30)
    consumer.assign([
        TopicPartition(topic, partition, OFFSET_END)
        for topic in topics
        for partition in metadata.topics[topic].partitions
    ])  # fmt: skip


class Follower(threading.Thread):
    """A consumer thread from the end of its topics, handing each record to ``on_record``."""

    def __init__(
        self, *, bootstrap: str, group: str, topics: list[str], on_record: Callable[[Message], None]
    ) -> None:
        super().__init__(name=f"follow-{group}", daemon=True)
        self._consumer = _consumer(bootstrap, group)
        _assign_at_end(self._consumer, topics)
        self._on_record = on_record
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                # what has arrived, at once: consume(500) would hold a lone record 0.1 s
                for message in take(self._consumer, 500, timeout=0.1):
                    if message.error() is None:
                        self._on_record(message)
        finally:
            self._consumer.close()


def audit_follower(
    *, bootstrap: str, schemas_dir: Path, on_event: Callable[[dict[str, Any]], None]
) -> Follower:
    """Follows ``audit.events`` (read committed), each record decoded as the e2e tests do."""
    decode = SerdeFactory(settings=SchemaSettings(schemas_dir=schemas_dir)).deserializer(
        value_schema=AUDIT_SCHEMA
    )
    context = SerializationContext(AUDIT_TOPIC, MessageField.VALUE)

    def on_record(message: Message) -> None:
        if message.value():
            event = decode(message.value(), context)
            if event is not None:
                on_event(event)

    return Follower(
        bootstrap=bootstrap, group="bench-latency-audit", topics=[AUDIT_TOPIC], on_record=on_record
    )


class KafkaSide:
    """Per order key: the CreateTime of its first source event (the ingress's produce) and
    the moment its first command became visible to a read_committed consumer."""

    def __init__(self, *, bootstrap: str) -> None:
        self.produced: dict[str, float] = {}
        self.visible: dict[str, float] = {}
        self.follower = Follower(
            bootstrap=bootstrap, group="bench-latency-kafka-side", topics=[SOURCE, COMMANDS],
            on_record=self._on_record,
        )  # fmt: skip

    def _on_record(self, message: Message) -> None:
        now = time.time()
        key = (message.key() or b"").decode()
        if message.topic() == SOURCE:
            self.produced.setdefault(key, message.timestamp()[1] / 1000)
        else:
            self.visible.setdefault(key, now)

    def latency(self, key: str) -> float | None:
        """Seconds from the source record's produce to its command's visibility."""
        if key in self.produced and key in self.visible:
            return self.visible[key] - self.produced[key]
        return None


class BareRoundTrip:
    """A plain producer and consumer on their own topic of the same broker: each record
    carries its intended send time, and the consumer records now minus that time."""

    def __init__(self, *, bootstrap: str, record: Callable[[float], None]) -> None:
        self._producer = Producer({"bootstrap.servers": bootstrap})
        self._record = record
        self.follower = Follower(
            bootstrap=bootstrap, group="bench-latency-bare", topics=[BARE_TOPIC],
            on_record=self._on_record,
        )  # fmt: skip

    def _on_record(self, message: Message) -> None:
        now = time.time()
        intended, _ = _STAMP.unpack(message.value() or b"")
        self._record(now - intended)

    def send(self, *, t0: float, offsets: list[float], stop: threading.Event) -> None:
        """Produce one record at each intended time ``t0 + offset`` (open loop)."""
        for number, offset in enumerate(offsets):
            intended = t0 + offset
            while (wait := intended - time.time()) > 0:
                if stop.wait(min(wait, 0.05)):
                    return
            self._producer.produce(BARE_TOPIC, value=_STAMP.pack(intended, number))
            self._producer.poll(0)
        self._producer.flush(30)
