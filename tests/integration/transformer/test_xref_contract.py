"""The Kafka-backed LookupPort keeps the mapping package's LookupPort contract."""

from __future__ import annotations

import time
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.mapping.contract import lookup_port_problems
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.schemas.xref import XREF_SCHEMA, cross_reference
from isthmus.testing.kafka import Broker, UniqueNames, create_topics
from isthmus.transformer.adapters.xref import XrefFollower
from tests.integration.transformer.conftest import Stage

KNOWN = {
    "account": {"d365-a1": "17100001", "d365-a2": "17100002"},
    "salesorder": {"d365-o1": "4711", "d365-o2": "4712"},
}


def _write_in_transaction(
    broker: Broker, serdes: SerdeFactory, topic: str, *, entity: str, d365: str, s4: str
) -> None:
    """The sinks link ids inside their transactions: the table ends on a commit marker then."""
    producer = Producer({**broker.settings.client_config(), "transactional.id": f"{topic}-writer"})
    producer.init_transactions(30)
    producer.begin_transaction()
    reference = cross_reference(entity, d365_id=d365, s4_id=s4)
    value = serdes.serializer(value_schema=XREF_SCHEMA)(
        reference, SerializationContext(topic, MessageField.VALUE)
    )
    for partition in range(3):  # every partition ends on a commit marker
        producer.produce(topic, key=f"{entity}:{d365}".encode(), value=value, partition=partition)
    producer.commit_transaction(30)


def test_the_xref_topic_adapter_keeps_the_lookup_port_contract(
    kafka_broker: Broker, unique_name: UniqueNames, repo_root: Path, tmp_path: Path
) -> None:
    topic = unique_name("xref")
    create_topics(kafka_broker, topic, partitions=3, **{"cleanup.policy": "compact"})
    serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas"))
    writer = Stage(
        broker=kafka_broker,
        repo=repo_root,
        folder=tmp_path,
        source="",
        commands="",
        group="",
        xref=topic,
        serdes=serdes,
        logs=tmp_path / "log",
    )
    for entity, pairs in KNOWN.items():
        for d365, s4 in pairs.items():
            writer.send_xref(entity=entity, d365=d365, s4=s4)
    writer.send_xref(entity="account", d365="d365-gone", s4="17109999")
    writer.producer().produce(topic, key=b"account:d365-gone", value=None)  # tombstone
    writer.producer().flush(10)
    _write_in_transaction(
        kafka_broker, serdes, topic, entity="salesorder", d365="d365-o2", s4="4712"
    )

    follower = XrefFollower(
        kafka=kafka_broker.settings,
        topic=topic,
        decoder=serdes.deserializer(value_schema=XREF_SCHEMA),
    )
    follower.start(timeout_s=30)
    try:
        table = follower.table
        assert lookup_port_problems(table, known=KNOWN) == []
        assert table.s4_id(entity="account", d365_id="d365-gone") is None
        writer.send_xref(entity="account", d365="d365-new", s4="17100003")
        deadline = time.monotonic() + 30
        while table.s4_id(entity="account", d365_id="d365-new") is None:
            assert time.monotonic() < deadline, "a new reference was not followed"
            time.sleep(0.1)
        assert table.d365_id(entity="account", s4_id="17100003") == "d365-new"
    finally:
        follower.stop()
