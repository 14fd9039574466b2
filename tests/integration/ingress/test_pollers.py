"""Pollers produce the same events from change tracking and watermarks, once, across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isthmus.testing.kafka import Broker, create_topics, drain
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4

from .conftest import decoded, ingress_env, make_topics, records_for, start_ingress, wait_until
from .test_sandboxes import _create_order, _s4_order

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_pollers_produce_changes_once_and_resume_from_checkpoints(
    kafka_broker: Broker,
    sandbox_d365_clean: SandboxD365,
    sandbox_s4_clean: SandboxS4,
    tmp_path: Path,
) -> None:
    topics = make_topics(kafka_broker)
    checkpoints = f"{topics.prefix}.ingress.checkpoints"
    create_topics(kafka_broker, checkpoints, **{"cleanup.policy": "compact"})  # type: ignore[arg-type]  # a topic config
    env = ingress_env(
        kafka_broker.bootstrap_servers,
        topics,
        d365=sandbox_d365_clean,
        s4=sandbox_s4_clean,
        ISTHMUS_INGRESS_POLLERS__ENABLED="true",
        ISTHMUS_INGRESS_POLLERS__INTERVAL_S="1",
        ISTHMUS_INGRESS_POLLERS__D365_TABLES=json.dumps(["salesorder"]),
        ISTHMUS_INGRESS_POLLERS__S4_OBJECTS=json.dumps(["salesorder"]),
        ISTHMUS_INGRESS_POLLERS__CHECKPOINT_TOPIC=checkpoints,
    )
    order_id = _create_order(sandbox_d365_clean)
    number = _s4_order(sandbox_s4_clean)
    ingress = start_ingress(env, topics, tmp_path)
    try:
        d365 = records_for(
            kafka_broker, topics.d365["salesorder"], order_id, expected=1, timeout_s=60
        )
        s4 = records_for(kafka_broker, topics.s4["salesorder"], number, expected=1, timeout_s=60)
        assert wait_until(
            lambda: len(drain(kafka_broker, checkpoints, timeout_s=3)) >= 2, timeout_s=60
        )
    finally:
        ingress.process.stop()
    order = decoded(d365[0], "io.isthmus.d365.SalesOrderEvent")
    assert order["envelope"]["message"] == "Create"
    assert len(order["data"]["order_details"]) == 2
    assert decoded(s4[0], "io.isthmus.s4.SalesOrderEvent")["data"]["to_Item"]
    saved = {(m.key() or b"").decode() for m in drain(kafka_broker, checkpoints, timeout_s=3)}
    assert saved == {"d365:salesorders", "s4:A_SalesOrder"}

    again = start_ingress({**env, "ISTHMUS_INGRESS_DEDUP_WINDOW_S": "0"}, topics, tmp_path)
    try:
        second_order = _create_order(sandbox_d365_clean)
        assert records_for(
            kafka_broker, topics.d365["salesorder"], second_order, expected=1, timeout_s=60
        )
    finally:
        again.process.stop()
    assert len(records_for(kafka_broker, topics.d365["salesorder"], order_id, expected=None)) == 1
