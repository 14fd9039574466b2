"""Exactly-once: a processor killed mid-transaction, or stopped with SIGTERM, loses and
duplicates nothing for a read_committed consumer of its output."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Message

from isthmus.devenv.ports import free_port
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, produce, wait_for_output

pytestmark = pytest.mark.integration

APP = Path(__file__).with_name("passthrough_app.py")


@contextmanager
def app(
    broker: Broker, group: Group, tmp_path: Path, *extra: str
) -> Iterator[subprocess.Popen[bytes]]:
    """The passthrough processor as a real child process (exactly-once mode)."""
    log = (tmp_path / f"app-{time.monotonic_ns()}.log").open("wb")
    command = [
        sys.executable, str(APP), "--exactly-once",
        "--bootstrap", broker.bootstrap_servers, "--group", group.name,
        "--source", group.source, "--output", group.output, *extra,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        log.close()


def _values(messages: list[Message]) -> Counter[bytes | None]:
    return Counter(m.value() for m in messages)


def test_killed_between_produce_and_commit_then_restarted_each_input_appears_once(
    kafka_broker: Broker, make_group: Callable[..., Group], tmp_path: Path
) -> None:
    group = make_group(partitions=2)
    inputs = [(f"k{i % 20}".encode(), f"v{i}".encode()) for i in range(200)]
    produce(kafka_broker, group.source, inputs)
    marker = tmp_path / "killed-once"
    with app(kafka_broker, group, tmp_path, "--kill-on", "v120", "--marker", str(marker)) as first:
        assert first.wait(timeout=60) == -signal.SIGKILL
    assert marker.exists()
    port = free_port()
    restart = ("--kill-on", "v120", "--marker", str(marker), "--metrics-port", str(port))
    with app(kafka_broker, group, tmp_path, *restart) as second:
        committed = drain(kafka_broker, group.output, expected=len(inputs))
        scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert _values(committed) == Counter[bytes | None](v for _, v in inputs)
    everything = drain(kafka_broker, group.output, expected=len(inputs), read_committed=False)
    assert len(everything) >= len(inputs)  # aborted copies exist, hidden from read_committed
    assert "isthmus_messages_consumed" in scraped  # Prometheus endpoint of the restarted process
    assert "isthmus_messages_produced" in scraped


def test_sigterm_during_load_loses_nothing_and_duplicates_nothing(
    kafka_broker: Broker, make_group: Callable[..., Group], tmp_path: Path
) -> None:
    group = make_group(partitions=3)
    inputs = [(f"k{i % 30}".encode(), f"v{i}".encode()) for i in range(400)]

    def load_inputs() -> None:
        for start in range(0, len(inputs), 20):
            produce(kafka_broker, group.source, inputs[start : start + 20])
            time.sleep(0.05)

    load = threading.Thread(target=load_inputs, daemon=True)
    with app(kafka_broker, group, tmp_path, "--delay-ms", "20", "--batch-size", "20") as first:
        load.start()
        wait_for_output(kafka_broker, group.output)  # processing is under way
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    load.join(timeout=60)
    before = len(drain(kafka_broker, group.output, expected=1))
    assert 0 < before < len(inputs)  # the signal really arrived mid-load
    with app(kafka_broker, group, tmp_path) as second:
        committed = drain(kafka_broker, group.output, expected=len(inputs))
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert _values(committed) == Counter[bytes | None](v for _, v in inputs)
