"""Helpers for tests that talk to the real broker: unique names, topic creation, draining."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaException, Message
from confluent_kafka.admin import AdminClient, NewTopic

from isthmus.kafka.settings import KafkaSettings

_SAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Broker:
    """The broker a test session talks to."""

    bootstrap_servers: str

    @property
    def settings(self) -> KafkaSettings:
        """Client settings pointing at this broker."""
        return KafkaSettings(bootstrap_servers=self.bootstrap_servers, client_id="isthmus-tests")

    def admin(self) -> AdminClient:
        """A fresh AdminClient for this broker."""
        return AdminClient(self.settings.client_config())


class UniqueNames:
    """Topic and group names that no other test (or earlier run) uses."""

    def __init__(self, test_name: str) -> None:
        self._stem = _SAFE.sub("-", test_name.lower()).strip("-")[:40]

    def __call__(self, label: str = "") -> str:
        """A fresh name like ``t-test-dlq-poison-orders-1a2b3c4d``."""
        suffix = uuid.uuid4().hex[:8]
        return "-".join(part for part in ("t", self._stem, label, suffix) if part)


def create_topics(broker: Broker, *names: str, partitions: int = 1, **config: str) -> None:
    """Create plain topics and wait until every one of them is usable.

    Raises:
        KafkaException: the broker refused a topic.
    """
    admin = broker.admin()
    futures = admin.create_topics(
        [
            NewTopic(name, num_partitions=partitions, replication_factor=1, config=config)
            for name in names
        ]
    )
    for future in futures.values():
        future.result(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        metadata = admin.list_topics(timeout=10)
        if all(name in metadata.topics and not metadata.topics[name].error for name in names):
            return
        time.sleep(0.1)
    raise KafkaException(f"topics not visible in metadata after 30s: {names}")


def drain(
    broker: Broker,
    topic: str,
    *,
    expected: int | None = None,
    timeout_s: float = 30.0,
    read_committed: bool = True,
) -> list[Message]:
    """Read a topic from the beginning until ``expected`` records arrived, or it stays quiet.

    With ``expected`` set, waits up to ``timeout_s`` for that many records, then reads one more
    second to catch extras; without it, returns once no record arrived for two seconds.
    """
    consumer = Consumer(
        {
            **broker.settings.client_config(),
            "group.id": f"drain-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": "read_committed" if read_committed else "read_uncommitted",
        }
    )
    consumer.subscribe([topic])
    records: list[Message] = []
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    try:
        while time.monotonic() < deadline:
            batch = consumer.consume(num_messages=500, timeout=0.2)
            real = [m for m in batch if m.error() is None]
            records += real
            now = time.monotonic()
            if real:
                quiet_since = now
            settled = 1.0 if expected is not None else 2.0
            enough = expected is None or len(records) >= expected
            if enough and now - quiet_since >= settled:
                break
    finally:
        consumer.close()
    return records
