"""sap-sink failure paths as real processes: poison + replay, prerequisites, kill -9, replicas."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka import headers as h
from isthmus.kafka.parking import PARKED_SCHEMA
from isthmus.kafka.routing import format_delay
from isthmus.schemas.xref import XREF_SCHEMA, cross_reference
from isthmus.testing.kafka import create_topics, drain
from tests.integration.sinks.conftest import sales_order, wait_for
from tests.integration.sinks.sandbox_data import (
    add_sales_area,
    create_customer,
    orders_by_reference,
)

pytestmark = pytest.mark.integration
ORDER = "io.isthmus.s4.SalesOrderCommand"


def test_poison_goes_to_dlq_with_sap_message_then_replay_creates_it(sap_sink, sandbox_s4_clean):
    poison = sales_order(key="poison", reference="POISON-1", sold_to="17100004")
    poison["SalesOrganization"] = "1710"
    poison["TransactionCurrency"] = "USD"
    good = sales_order(key="good", reference="GOOD-1")
    sap_sink.produce([("poison", poison), ("good", good)], schema=ORDER)
    sap_sink.start()

    dlq = sap_sink.decode(sap_sink.topics.dlq, expected=1)
    assert [key for key, _ in dlq] == ["poison"]
    raw = (
        sap_sink.broker
        and __import__("isthmus.testing.kafka", fromlist=["drain"]).drain(
            sap_sink.broker, sap_sink.topics.dlq, expected=1
        )[0]
    )
    message = h.get_str(h.of(raw), h.ERROR_MESSAGE) or ""
    assert "not maintained for sales area" in message
    assert h.get_str(h.of(raw), h.ERROR_CLASS) == "invalid"
    results = dict(sap_sink.decode(sap_sink.topics.results, expected=2))
    assert results["poison"]["status"] == "REJECTED"
    assert results["good"]["status"] == "SUCCEEDED"

    add_sales_area(sandbox_s4_clean, customer="17100004", org="1710")
    cli = shutil.which("isthmus")
    assert cli is not None
    done = subprocess.run(
        [
            cli,
            "replay",
            "run",
            sap_sink.topics.dlq,
            "--bootstrap-servers",
            sap_sink.broker.bootstrap_servers,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wait_for(lambda: orders_by_reference(sandbox_s4_clean, "POISON-")["POISON-1"] == 1)
    statuses = [
        v["status"]
        for k, v in sap_sink.decode(sap_sink.topics.results, expected=3)
        if k == "poison"
    ]
    assert statuses == ["REJECTED", "SUCCEEDED"]


def test_missing_customer_parks_until_its_xref_entry_arrives(sap_sink, sandbox_s4_clean):
    late = sales_order(key="late", reference="LATE-1", sold_to="10100099")
    never = sales_order(key="never", reference="NEVER-1", sold_to="10100098")
    sap_sink.produce([("late", late), ("never", never)], schema=ORDER)
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_SINK__DEPENDENCY_WAIT_S": "15"})

    def parked() -> bool:
        audit = sap_sink.decode(sap_sink.topics.audit, timeout_s=3)
        return any(v["errorClass"] == "dependency" for k, v in audit if k == "late")

    wait_for(parked, timeout_s=30)
    assert orders_by_reference(sandbox_s4_clean, "LATE-") == {}
    create_customer(sandbox_s4_clean, number="10100099")
    _publish_xref(sap_sink, "account:s4:10100099", d365="acc-late", s4="10100099")

    wait_for(lambda: orders_by_reference(sandbox_s4_clean, "LATE-")["LATE-1"] == 1, timeout_s=30)
    dlq = sap_sink.decode(sap_sink.topics.dlq, expected=1, timeout_s=60)
    assert [key for key, _ in dlq] == ["never"]
    results = dict(sap_sink.decode(sap_sink.topics.results, expected=2))
    assert results["late"]["status"] == "SUCCEEDED"
    assert results["never"]["status"] == "FAILED"
    assert "prerequisite still missing" in results["never"]["message"]
    _assert_parked_streams_are_avro_and_freed(sap_sink)


def test_missing_customer_is_released_by_its_xref_link_not_by_the_retry_delay(
    sap_sink, sandbox_s4_clean
):
    # tiers of two and four minutes: within the test's wait only the link can release the order
    delays = (120_000, 240_000)
    create_topics(
        sap_sink.broker,
        *(f"{sap_sink.topics.group}.retry.{format_delay(d)}" for d in delays),
        partitions=4,
    )
    order = sales_order(key="waits", reference="WAITS-1", sold_to="10100097")
    sap_sink.produce([("waits", order)], schema=ORDER)
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_PROCESSOR__RETRY_DELAYS_MS": json.dumps(delays)})

    tier = f"{sap_sink.topics.group}.retry.{format_delay(delays[0])}"
    (waiting,) = drain(sap_sink.broker, tier, expected=1, timeout_s=60)
    assert json.loads(h.get(h.of(waiting), h.AWAITS) or b"[]") == ["account:s4:10100097"]
    create_customer(sandbox_s4_clean, number="10100097")
    _publish_xref(sap_sink, "account:s4:10100097", d365="acc-waits", s4="10100097")

    (result,) = sap_sink.decode(sap_sink.topics.results, expected=1, timeout_s=60)
    assert result[1]["status"] == "SUCCEEDED"
    assert orders_by_reference(sandbox_s4_clean, "WAITS-") == {"WAITS-1": 1}


def _assert_parked_streams_are_avro_and_freed(sap_sink) -> None:
    topic = f"{sap_sink.topics.group}.parked"
    reader = sap_sink.factory.deserializer(value_schema=PARKED_SCHEMA)  # the catalogue's schema
    ctx = SerializationContext(topic, MessageField.VALUE)
    by_stream: dict[bytes, list[bytes | None]] = {}
    for message in drain(sap_sink.broker, topic, expected=4):
        by_stream.setdefault(message.key() or b"", []).append(message.value())
    commands = sap_sink.topics.commands.encode()
    assert set(by_stream) == {commands + b"\x00late", commands + b"\x00never"}
    for stream, values in by_stream.items():
        assert values[-1] is None  # the tombstone freed the stream
        first = reader(values[0], ctx)
        assert first is not None
        assert first["consumerGroup"] == sap_sink.topics.group
        assert first["sourceTopic"] == sap_sink.topics.commands
        assert first["key"].encode() == stream.split(b"\x00", 1)[1]
        assert [o["retryTopic"] for o in first["origins"]] == [sap_sink.topics.retries[0]]


def test_kill_9_mid_batch_loses_and_duplicates_nothing(sap_sink, sandbox_s4_clean):
    # each create (alone or a $batch of a poll's creates) takes a while: the kill lands mid-run
    sandbox_s4_clean.admin.add_fault(
        kind="latency", path="*API_SALES_ORDER_SRV*", method="POST", latency_ms=500
    )
    count = 300
    sap_sink.produce(
        [(f"k-{i}", sales_order(key=f"k-{i}", reference=f"KILL-{i}")) for i in range(count)],
        schema=ORDER,
    )
    first = sap_sink.start(name="first")
    wait_for(lambda: sum(orders_by_reference(sandbox_s4_clean, "KILL-").values()) >= 60)
    first.kill()
    before = sum(orders_by_reference(sandbox_s4_clean, "KILL-").values())
    assert before < count
    sap_sink.start(name="second")
    wait_for(lambda: len(orders_by_reference(sandbox_s4_clean, "KILL-")) == count, timeout_s=90)
    found = orders_by_reference(sandbox_s4_clean, "KILL-")
    assert set(found.values()) == {1}
    keys = {key for key, _ in sap_sink.decode(sap_sink.topics.results, expected=count)}
    assert keys == {f"k-{i}" for i in range(count)}


def test_two_replicas_share_partitions_and_process_everything_once(sap_sink, sandbox_s4_clean):
    count = 200
    a = sap_sink.start(name="a")
    b = sap_sink.start(name="b")
    # the group settles on two members, each with its share of the partitions
    wait_for(lambda: all("assigned" in p.log_tail(400) for p in (a, b)), timeout_s=60)
    sap_sink.produce(
        [(f"r-{i}", sales_order(key=f"r-{i}", reference=f"REPL-{i}")) for i in range(count)],
        schema=ORDER,
    )
    wait_for(lambda: len(orders_by_reference(sandbox_s4_clean, "REPL-")) == count, timeout_s=90)
    assert set(orders_by_reference(sandbox_s4_clean, "REPL-").values()) == {1}
    results = sap_sink.decode(sap_sink.topics.results, expected=count)
    assert {k for k, _ in results} == {f"r-{i}" for i in range(count)}


def _publish_xref(sap_sink, key: str, *, d365: str, s4: str) -> None:
    serializer = sap_sink.factory.serializer(value_schema=XREF_SCHEMA)
    value = cross_reference("account", d365_id=d365, s4_id=s4)
    ctx = SerializationContext(sap_sink.topics.xref, MessageField.VALUE)
    producer = Producer(sap_sink.broker.settings.client_config())
    producer.produce(sap_sink.topics.xref, serializer(value, ctx), key.encode())
    producer.flush(30)
