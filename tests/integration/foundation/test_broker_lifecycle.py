"""The local KRaft broker keeps its records across a stop and a start."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import time
import warnings
from pathlib import Path

import pytest
from confluent_kafka import Producer

from isthmus.devenv.environment import local_kafka
from isthmus.devenv.ports import port_open
from isthmus.testing.kafka import Broker, create_topics, drain
from tests.faults.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def _write_one(client: Broker, topic: str, key: bytes, value: bytes) -> None:
    """Create ``topic`` and write one record to it, acknowledged by the broker."""
    create_topics(client, topic)
    producer = Producer({**client.settings.client_config(), "acks": "all"})
    producer.produce(topic, key=key, value=value)
    assert producer.flush(30) == 0


def test_record_survives_broker_restart(repo_root: Path, unique_name) -> None:
    broker = local_kafka(root=repo_root, name=unique_name("lifecycle"))
    try:
        state = broker.up()
        client = Broker(bootstrap_servers=state.bootstrap_servers)
        topic = unique_name("durable")
        _write_one(client, topic, b"order-1", b"created")

        assert [m.value() for m in drain(client, topic, expected=1)] == [b"created"]

        broker.down()
        assert broker.pid() is None
        assert not broker.is_ready()

        again = broker.up()
        assert again.bootstrap_servers == state.bootstrap_servers
        records = drain(client, topic, expected=1)
        assert [(m.key(), m.value()) for m in records] == [(b"order-1", b"created")]
    finally:
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


def test_a_broker_killed_with_sigkill_is_reaped_when_it_is_started_again(
    repo_root: Path, unique_name
) -> None:
    """A broker that died without ``down`` (kill -9) leaves its exit status to be collected:
    ``up`` collects it, so no Popen is dropped unwaited (pytest turns that ResourceWarning,
    raised whenever the garbage collector gets to it, into a failure of an unrelated test)."""
    broker = local_kafka(root=repo_root, name=unique_name("killed"))
    try:
        state = broker.up()
        pid = broker.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while broker.pid() is not None or port_open(state.port):
            assert time.monotonic() < deadline, "the killed broker still runs"
            time.sleep(0.1)

        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            broker.up()
            gc.collect()
        assert broker.pid() not in (None, pid)
    finally:
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


def test_up_is_idempotent_while_running(kafka_broker: Broker, repo_root: Path) -> None:
    metadata = kafka_broker.admin().list_topics(timeout=10)

    assert len(metadata.brokers) == 1
    assert next(iter(metadata.brokers.values())).host == "127.0.0.1"


def test_clients_bootstrapped_through_the_proxied_listener_stay_on_the_proxy(
    repo_root: Path, unique_name
) -> None:
    broker = local_kafka(root=repo_root, name=unique_name("proxied"), proxied_listener=True)
    try:
        state = broker.up()
        assert state.proxied_port and state.proxy_port
        with FaultProxy("127.0.0.1", state.proxied_port, listen_port=state.proxy_port) as proxy:
            proxied = Broker(bootstrap_servers=f"127.0.0.1:{proxy.port}")
            (advertised,) = proxied.admin().list_topics(timeout=10).brokers.values()
            assert (str(advertised.host), advertised.port) == ("127.0.0.1", proxy.port)
            topic = unique_name("through-proxy")
            _write_one(proxied, topic, b"k", b"v")
            assert [m.value() for m in drain(proxied, topic, expected=1)] == [b"v"]
            assert proxy.stats().bytes_to_client > 0
            direct = Broker(bootstrap_servers=state.bootstrap_servers)
            (plain,) = direct.admin().list_topics(timeout=10).brokers.values()
            assert plain.port == state.port
    finally:
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
