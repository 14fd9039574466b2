"""The transformer as a real process on the real broker, with its own topics and flow folder."""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaException, Message, Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_TOPIC
from isthmus.kafka.routing import format_delay
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.schemas.xref import XREF_SCHEMA, cross_reference
from isthmus.testing.kafka import Broker, UniqueNames, create_topics, drain
from isthmus.transformer.samples import avro_typed

FLOW = "d365-salesorder-to-s4.yaml"
EVENT_SCHEMA = "io.isthmus.d365.SalesOrderEvent"
ACCOUNT = "00000000-0000-0000-0000-000000000020"
DELAYS = (1000, 2000)  # the retry tiers of a staged transformer: .retry.1s and .retry.2s


@dataclass
class Stage:
    """One test's topics, flow folder, serdes and transformer process."""

    broker: Broker
    repo: Path
    folder: Path
    source: str
    commands: str
    group: str
    xref: str
    serdes: SerdeFactory
    logs: Path
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = None
    _producer: Producer | None = None

    @property
    def dlq(self) -> str:
        """The group's dead-letter topic."""
        return f"{self.group}.dlq"

    def start(self, *, batch_size: int = 50, retry_delays_ms: tuple[int, ...] = DELAYS) -> None:
        """Start ``isthmus-transformer`` and wait until it is ready (retry tiers other than
        1 s and 2 s are created here)."""
        for delay in set(retry_delays_ms) - set(DELAYS):
            create_topics(self.broker, f"{self.group}.retry.{format_delay(delay)}", partitions=3)
        self.process = self.replica(
            instance="0", port=self.port, log=self.logs, batch_size=batch_size,
            retry_delays_ms=retry_delays_ms,
        )  # fmt: skip

    def replica(
        self,
        *,
        instance: str,
        port: int,
        log: Path,
        batch_size: int = 50,
        retry_delays_ms: tuple[int, ...] = DELAYS,
    ) -> ManagedProcess:
        """Start one more member of the group (its own instance id and port); wait until ready."""
        prefix = "ISTHMUS_TRANSFORMER_"
        env = {
            f"{prefix}KAFKA__BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            f"{prefix}PROCESSOR__GROUP_ID": self.group,
            f"{prefix}PROCESSOR__BATCH_SIZE": str(batch_size),
            f"{prefix}PROCESSOR__STATIC_MEMBERSHIP": "true",
            f"{prefix}PROCESSOR__RETRY_DELAYS_MS": json.dumps(list(retry_delays_ms)),
            f"{prefix}PROCESSOR__IN_PLACE_ATTEMPTS": "1",
            f"{prefix}FLOWS__DIRECTORY": str(self.folder),
            f"{prefix}FLOWS__RELOAD_INTERVAL_S": "0.3",
            f"{prefix}XREF__TOPIC": self.xref,
            f"{prefix}HTTP__PORT": str(port),
            f"{prefix}PROCESSOR__INSTANCE_ID": instance,
            f"{prefix}TOPICS_FILE": str(self.repo / "deploy" / "topics.yaml"),
            f"{prefix}SCHEMAS__SCHEMAS_DIR": str(self.repo / "schemas"),
        }
        process = ManagedProcess(
            name=f"transformer-{instance}",
            argv=[sys.executable, "-m", "isthmus.transformer"],
            log_file=log,
            env=env,
        )
        process.start()
        process.wait_http_ready(f"http://127.0.0.1:{port}/readyz", timeout_s=60)
        return process

    def metric(self, name: str) -> float:
        """The value of a Prometheus sample of the running process (0 when absent)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as r:
            text = r.read().decode()
        values = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith(name) and not line.startswith("#")
        ]
        return sum(values)

    def producer(self) -> Producer:
        """One idempotent producer per test."""
        if self._producer is None:
            self._producer = Producer(
                {**self.broker.settings.client_config(), "enable.idempotence": True, "linger.ms": 5}
            )
        return self._producer

    def send_order(self, event: dict[str, Any]) -> None:
        """Produce one sales-order event (Avro single-object encoding, CloudEvents headers)."""
        serializer = self.serdes.serializer(value_schema=EVENT_SCHEMA)
        value = serializer(event, SerializationContext(self.source, MessageField.VALUE))
        self.send_raw(event["data"]["salesorderid"], value, event["envelope"]["eventId"])

    def send_orders(self, events: list[dict[str, Any]]) -> None:
        """Produce many sales-order events with one flush."""
        serializer = self.serdes.serializer(value_schema=EVENT_SCHEMA)
        ctx = SerializationContext(self.source, MessageField.VALUE)
        producer = self.producer()
        for event in events:
            producer.produce(
                self.source,
                key=event["data"]["salesorderid"].encode(),
                value=serializer(event, ctx),
                headers=[(h.CORRELATION_ID, event["envelope"]["eventId"].encode())],
            )
            producer.poll(0)
        producer.flush(30)

    def send_raw(self, key: str, value: bytes | None, event_id: str) -> None:
        """Produce bytes as they are, with CloudEvents headers."""
        cloud = h.CloudEvent(
            id=event_id, source="/test", type="d365.salesorder.Create", time=datetime.now(UTC)
        )
        headers = {**cloud.headers(), h.CORRELATION_ID: event_id.encode()}
        self.producer().produce(
            self.source,
            key=key.encode(),
            value=value,
            headers=[(k, v) for k, v in headers.items() if v is not None],
        )
        self.producer().flush(10)

    def send_xref(self, *, entity: str, d365: str, s4: str) -> None:
        """Link a Dataverse id to an S/4 id in the xref topic."""
        reference = cross_reference(entity, d365_id=d365, s4_id=s4)
        serializer = self.serdes.serializer(value_schema=XREF_SCHEMA)
        value = serializer(reference, SerializationContext(self.xref, MessageField.VALUE))
        self.producer().produce(self.xref, key=f"{entity}:{d365}".encode(), value=value)
        self.producer().flush(10)

    def decode(self, message: Message) -> Any:
        """Decode a command or audit record."""
        return self.serdes.deserializer(value_schema=None)(
            message.value(), SerializationContext(message.topic() or "", MessageField.VALUE)
        )

    def audits(self, *, expected: int) -> list[dict[str, Any]]:
        """The committed audit events whose source is this test's topic (or its retry tiers)."""
        wanted = {self.source}
        deadline = time.monotonic() + 45
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = [
                event
                for event in (self.decode(m) for m in drain(self.broker, AUDIT_TOPIC, timeout_s=5))
                if event["sourceTopic"] in wanted
            ]
            if len(found) >= expected:
                break
        return found


def order_event(
    *, number: int, customer: str = ACCOUNT, sample: dict[str, Any], schema: dict[str, Any]
) -> dict[str, Any]:
    """A realistic sales-order event: the shipped sample with its own ids."""
    event = json.loads(json.dumps(sample))
    event["envelope"]["eventId"] = str(uuid.uuid4())
    event["data"]["salesorderid"] = str(uuid.uuid4())
    event["data"]["ordernumber"] = f"ORD-{number:05d}-T"
    event["data"]["_customerid_value"] = customer
    typed: dict[str, Any] = avro_typed(event, schema)
    return typed


def _ensure_audit_topic(broker: Broker) -> None:
    try:
        create_topics(broker, AUDIT_TOPIC, partitions=1)
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc) and "already exists" not in str(exc):
            raise


@pytest.fixture
def stage(
    kafka_broker: Broker, repo_root: Path, unique_name: UniqueNames, tmp_path: Path
) -> Iterator[Stage]:
    """Fresh topics and a flow folder holding the sales-order flow pointed at them."""
    topics = ("d365.salesorder.events", "s4.salesorder.commands")
    yield from staged_run(
        kafka_broker, repo_root, unique_name, tmp_path, flow=FLOW, topics=topics, partitions=3
    )


def staged_run(
    broker: Broker,
    repo_root: Path,
    unique_name: UniqueNames,
    tmp_path: Path,
    *,
    flow: str,
    topics: tuple[str, str],
    partitions: int,
) -> Iterator[Stage]:
    """A fixture body: fresh topics, a flow folder with ``flow`` using them in place of
    ``topics``; the transformer (when started) stopped after the test."""
    source, commands, group, xref = (unique_name(n) for n in ("src", "cmd", "grp", "xref"))
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copytree(repo_root / "flows" / "lookups", folder / "lookups")
    text = (repo_root / "flows" / flow).read_text()
    text = text.replace(topics[0], source).replace(topics[1], commands)
    (folder / flow).write_text(text)
    _ensure_audit_topic(broker)
    create_topics(broker, source, commands, f"{group}.dlq", partitions=partitions)
    create_topics(broker, f"{group}.retry.1s", f"{group}.retry.2s", partitions=partitions)
    create_topics(broker, xref, f"{group}.parked", partitions=1, **{"cleanup.policy": "compact"})
    staged = Stage(
        broker=broker,
        repo=repo_root,
        folder=folder,
        source=source,
        commands=commands,
        group=group,
        xref=xref,
        serdes=SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas")),
        logs=tmp_path / "transformer.log",
    )
    yield staged
    if staged.process is not None:
        staged.process.stop()
    staged._producer = None


@pytest.fixture
def make_order(stage: Stage, repo_root: Path) -> Callable[..., dict[str, Any]]:
    """Build order events from the shipped sample."""
    sample = json.loads(
        (repo_root / "flows" / "samples" / "d365-salesorder-created.json").read_text()
    )
    schema = json.loads(stage.serdes.catalogue.get(EVENT_SCHEMA).text)

    def build(number: int, customer: str = ACCOUNT) -> dict[str, Any]:
        return order_event(number=number, customer=customer, sample=sample, schema=schema)

    return build
