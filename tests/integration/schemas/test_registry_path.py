"""The Confluent wire format against a real Apicurio Registry (one JVM for the whole session)."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.devenv.paths import find_root
from isthmus.devenv.ports import free_port
from isthmus.kafka.catalogue import load_catalogue
from isthmus.schemas import (
    ErrorKind,
    RegistryRejectedError,
    RegistryUnavailableError,
    SchemaCatalogue,
    SchemaSettings,
    SerdeFactory,
    UnknownSchemaIdError,
    WireFormat,
)
from isthmus.schemas.registration import register_catalogue, topic_subjects
from isthmus.schemas.wire import confluent_header, read_header
from isthmus.testing.kafka import Broker, UniqueNames, create_topics, drain
from isthmus.testing.registry import SchemaRegistry

pytestmark = pytest.mark.integration

_CATALOGUE = SchemaCatalogue.load(find_root(Path(__file__)) / "schemas")
RECORDS = [schema.name for schema in _CATALOGUE if schema.parsed["type"] == "record"]


@pytest.fixture(scope="module")
def factory(schema_registry: SchemaRegistry, catalogue: SchemaCatalogue) -> Iterator[SerdeFactory]:
    settings = SchemaSettings(registry_url=schema_registry.url)
    with SerdeFactory(settings=settings, catalogue=catalogue) as built:
        yield built


@pytest.fixture(scope="module")
def local_factory(catalogue: SchemaCatalogue) -> SerdeFactory:
    return SerdeFactory(settings=SchemaSettings(), catalogue=catalogue)


def test_provisioning_registers_every_topic_subject_backward(
    factory: SerdeFactory, catalogue: SchemaCatalogue, repo_root: Path
) -> None:
    topics = load_catalogue(repo_root / "deploy" / "topics.yaml")
    subjects = topic_subjects((topic.name, topic.value_schema) for topic in topics)
    assert factory.registry is not None
    done = register_catalogue(registry=factory.registry, catalogue=catalogue, subjects=subjects)
    assert {r.subject for r in done} == set(subjects)
    assert set(subjects) <= set(factory.registry.subjects())
    # registering again is idempotent: same ids
    again = register_catalogue(registry=factory.registry, catalogue=catalogue, subjects=subjects)
    assert [r.schema_id for r in again] == [r.schema_id for r in done]


@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_confluent_framing_round_trip(
    name: str, data: st.DataObject, factory: SerdeFactory, values_of: Any
) -> None:
    schema = factory.catalogue.get(name)
    value = data.draw(values_of(schema.parsed))
    ctx = SerializationContext(f"t.roundtrip.{name}", MessageField.VALUE)
    serde = factory.pair(value_schema=name)
    payload = serde.serializer(value, ctx)
    assert payload is not None
    assert read_header(payload).wire_format is WireFormat.CONFLUENT
    assert serde.deserializer(payload, ctx) == value


def test_both_formats_are_read_by_a_registry_consumer(
    factory: SerdeFactory, local_factory: SerdeFactory
) -> None:
    name = "io.isthmus.common.CrossReference"
    value = {
        "entity": "account-businesspartner",
        "d365Id": str(uuid.uuid4()),
        "s4Id": "17100001",
        "linkedAt": _now(),
        "createdBy": "S4",
        "flow": None,
    }
    ctx = SerializationContext("xref.ids", MessageField.VALUE)
    framed = factory.serializer(value_schema=name)(value, ctx)
    single = local_factory.serializer(value_schema=name)(value, ctx)
    reader = factory.deserializer(value_schema=name)
    assert reader(framed, ctx) == reader(single, ctx) == value
    # without a registry, Confluent-framed bytes name an id nobody can resolve: invalid input
    with pytest.raises(UnknownSchemaIdError):
        local_factory.deserializer(value_schema=name)(framed, ctx)


def test_evolution_and_backward_enforcement_through_the_registry(
    factory: SerdeFactory, unique_name: UniqueNames
) -> None:
    registry = factory.registry
    assert registry is not None
    topic = unique_name("evolve")
    base = {"type": "record", "name": "Probe", "namespace": "io.isthmus.t", "fields": []}
    v1 = {**base, "fields": [{"name": "id", "type": "string"}]}
    v2 = {**base, "fields": [*v1["fields"], {"name": "qty", "type": "long", "default": 7}]}
    bad = {**base, "fields": [*v1["fields"], {"name": "plant", "type": "string"}]}
    old = SchemaCatalogue.from_sources({"Probe.avsc": json.dumps(v1)})
    new = SchemaCatalogue.from_sources({"Probe.avsc": json.dumps(v2)})
    ctx = SerializationContext(topic, MessageField.VALUE)
    old_factory = SerdeFactory(settings=factory.settings, catalogue=old, registry=registry)
    written = old_factory.serializer(value_schema="io.isthmus.t.Probe")({"id": "a"}, ctx)
    registry.set_backward(subject=f"{topic}-value")
    new_factory = SerdeFactory(settings=factory.settings, catalogue=new, registry=registry)
    assert new_factory.deserializer(value_schema="io.isthmus.t.Probe")(written, ctx) == {
        "id": "a",
        "qty": 7,
    }
    assert new_factory.serializer(value_schema="io.isthmus.t.Probe")({"id": "b"}, ctx)
    breaking = SchemaCatalogue.from_sources({"Probe.avsc": json.dumps(bad)})
    bad_factory = SerdeFactory(settings=factory.settings, catalogue=breaking, registry=registry)
    with pytest.raises(RegistryRejectedError) as raised:
        bad_factory.serializer(value_schema="io.isthmus.t.Probe")({"id": "c", "plant": "1710"}, ctx)
    assert raised.value.kind is ErrorKind.FATAL


def test_unknown_ids_are_invalid_and_an_unreachable_registry_is_retryable(
    factory: SerdeFactory, catalogue: SchemaCatalogue
) -> None:
    reader = factory.deserializer(value_schema="io.isthmus.common.ParkedKey")
    with pytest.raises(UnknownSchemaIdError) as unknown:
        reader(confluent_header(987_654) + b"\x00", SerializationContext("t", MessageField.VALUE))
    assert unknown.value.kind is ErrorKind.INVALID
    nobody = SchemaSettings(
        registry_url=f"http://127.0.0.1:{free_port()}/apis/ccompat/v7",
        registry_timeout_s=2,
        registry_max_retries=0,
    )
    with SerdeFactory(settings=nobody, catalogue=catalogue) as down:
        with pytest.raises(RegistryUnavailableError) as unavailable:
            down.deserializer(value_schema=None)(confluent_header(1) + b"\x00")
        assert unavailable.value.kind is ErrorKind.RETRYABLE
        with pytest.raises(RegistryUnavailableError):
            down.serializer(value_schema="io.isthmus.common.ParkedKey")(
                {"key": "k"}, SerializationContext("t", MessageField.VALUE)
            )


class _Hangs:
    """A TCP server on 127.0.0.1 that accepts, counts and never answers (a registry whose
    process is frozen or whose network path is a blackhole)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/apis/ccompat/v7"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.server.accept()
                self.accepted += 1
                self._held.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self._held:
            connection.close()


def test_a_registry_that_does_not_answer_is_not_called_again_until_the_cooldown_ends(
    catalogue: SchemaCatalogue,
) -> None:
    hangs = _Hangs()
    settings = SchemaSettings(
        registry_url=hangs.url,
        registry_timeout_s=1,
        registry_max_retries=0,
        registry_cooldown_s=2,
    )
    reader_of = SerdeFactory(settings=settings, catalogue=catalogue)
    try:
        read = reader_of.deserializer(value_schema=None)
        with pytest.raises(RegistryUnavailableError):
            read(confluent_header(1) + b"\x00")
        assert hangs.accepted == 1
        for schema_id in (2, 3, 4):
            with pytest.raises(RegistryUnavailableError, match="not called for") as fast:
                read(confluent_header(schema_id) + b"\x00")
            assert fast.value.kind is ErrorKind.RETRYABLE
        assert hangs.accepted == 1
        deadline = time.monotonic() + 10
        while hangs.accepted == 1 and time.monotonic() < deadline:
            with pytest.raises(RegistryUnavailableError):
                read(confluent_header(5) + b"\x00")
            time.sleep(0.2)
        assert hangs.accepted == 2  # the cool-down over, the next call tried again
    finally:
        reader_of.close()
        hangs.close()


def test_records_cross_a_real_broker_in_both_formats(
    factory: SerdeFactory,
    local_factory: SerdeFactory,
    kafka_broker: Broker,
    unique_name: UniqueNames,
) -> None:
    topic = unique_name("parked")
    create_topics(kafka_broker, topic)
    name = "io.isthmus.common.ParkedKey"
    ctx = SerializationContext(topic, MessageField.VALUE)
    values = [_parked(f"k{i}", topic) for i in range(4)]
    producer = Producer(kafka_broker.settings.client_config())
    for index, value in enumerate(values):
        serializer = (factory if index % 2 else local_factory).serializer(value_schema=name)
        producer.produce(topic, key=value["key"], value=serializer(value, ctx))
    assert producer.flush(30) == 0
    reader = factory.deserializer(value_schema=name)
    received = drain(kafka_broker, topic, expected=len(values))
    assert [reader(message.value(), ctx) for message in received] == values


def _parked(key: str, topic: str) -> dict[str, Any]:
    return {
        "key": key,
        "consumerGroup": "sap-sink",
        "sourceTopic": topic,
        "sourcePartition": 0,
        "sourceOffset": 42,
        "retryTopic": "sap-sink.retry.10s",
        "parkedAt": _now(),
        "attempt": 2,
    }


def _now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
