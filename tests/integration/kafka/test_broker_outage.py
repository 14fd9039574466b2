"""A broker outage under steady traffic: the loop recovers or exits to be restarted, its
readiness follows its group membership, each input appears once, and the clients' repeated
connection errors become a few log lines."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from confluent_kafka import Producer

from isthmus.devenv.broker import LocalKafka
from isthmus.devenv.environment import local_kafka
from isthmus.kafka.liveness import STUCK_EXIT_CODE
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.testing.kafka import Broker, UniqueNames, create_topics, drain

from .conftest import running, wait_for

pytestmark = pytest.mark.integration

APP = Path(__file__).with_name("passthrough_app.py")
OUTAGE_S = 20.0


@dataclass
class OwnBroker:
    """A broker of this module alone, so that stopping it disturbs no other test."""

    local: LocalKafka
    broker: Broker

    def pause(self) -> None:
        os.kill(self._pid(), signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self._pid(), signal.SIGCONT)

    def _pid(self) -> int:
        pid = self.local.pid()
        assert pid is not None
        return pid


@pytest.fixture(scope="module")
def own_broker(repo_root: Path) -> Iterator[OwnBroker]:
    local = local_kafka(root=repo_root, name=f"test-outage-{uuid.uuid4().hex[:8]}")
    try:
        state = local.up()
        yield OwnBroker(local=local, broker=Broker(bootstrap_servers=state.bootstrap_servers))
    finally:
        pid = local.pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        local.down()
        shutil.rmtree(local.data_dir, ignore_errors=True)


@dataclass
class Feeder:
    """Produces ``v0, v1, ...`` every few milliseconds from a thread until stopped."""

    broker: Broker
    topic: str
    sent: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        producer = Producer({**self.broker.settings.client_config(), "enable.idempotence": True})
        while not self._stop.is_set():
            producer.produce(self.topic, f"v{self.sent}".encode(), f"k{self.sent % 10}".encode())
            self.sent += 1
            producer.poll(0.02)
        assert producer.flush(120) == 0

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join(timeout=150)
        assert not thread.is_alive()


@dataclass
class Supervised:
    """The passthrough processor as a child process, restarted whenever it exits (as
    Kubernetes or ``make run`` would); keeps every exit code and every log."""

    command: list[str]
    logs: Path
    codes: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            log = self.logs / f"run-{len(self.codes)}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
                while process.poll() is None and not self._stop.is_set():
                    time.sleep(0.1)
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=120)
                    return
                self.codes.append(process.returncode)

    def stop(self, thread: threading.Thread) -> None:
        self._stop.set()
        thread.join(timeout=150)
        assert not thread.is_alive()

    def lines(self) -> list[str]:
        return [
            line
            for log in sorted(self.logs.glob("run-*.log"))
            for line in log.read_text().splitlines()
        ]


def _start(target: object) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_exactly_once_loop_survives_a_broker_pause_and_copies_each_input_once(
    own_broker: OwnBroker, unique_name: UniqueNames, tmp_path: Path
) -> None:
    broker = own_broker.broker
    group = unique_name("outage")
    source, output = f"{group}-in", f"{group}-out"
    create_topics(broker, source, output, partitions=2)
    create_topics(broker, Routes.from_delays(group=group, delays_ms=()).dlq)
    options = {
        "--bootstrap": broker.bootstrap_servers,
        "--group": group,
        "--source": source,
        "--output": output,
        "--stall-timeout-s": "10",
        "--transaction-timeout-ms": "5000",
    }
    supervised = Supervised(
        command=[
            sys.executable,
            str(APP),
            "--exactly-once",
            *(x for o in options.items() for x in o),
        ],
        logs=tmp_path,
    )
    feeder = Feeder(broker=broker, topic=source)
    processes, feeding = _start(supervised.run), _start(feeder.run)
    try:
        wait_for(lambda: bool(drain(broker, output, timeout_s=2)), timeout_s=60)
        own_broker.pause()
        time.sleep(OUTAGE_S)
        own_broker.resume()
        time.sleep(5)
        feeder.stop(feeding)
        copies = Counter(
            m.value() for m in drain(broker, output, expected=feeder.sent, timeout_s=180)
        )
    finally:
        own_broker.resume()
        supervised.stop(processes)
    expected = {f"v{i}".encode() for i in range(feeder.sent)}
    assert set(copies) == expected, f"missing {len(expected - set(copies))} of {feeder.sent}"
    assert max(copies.values()) == 1, [v for v, n in copies.items() if n > 1][:10]
    # A process that could not finish its transaction exited to be restarted, never hung.
    assert all(code in (1, STUCK_EXIT_CODE) for code in supervised.codes), supervised.codes
    lines = supervised.lines()
    assert not [line for line in lines if line.startswith("%")], "raw librdkafka line on stderr"
    records = [json.loads(line) for line in lines if line.startswith("{")]
    client = [r for r in records if r["logger"] == "isthmus.kafka.client"]
    # Every 50 ms for 20 s would be ~400 per client; an episode is one line plus summaries.
    assert len(client) < 60 * (len(supervised.codes) + 1), Counter(r["message"] for r in client)


def test_readiness_follows_group_membership_through_a_broker_pause(
    own_broker: OwnBroker, unique_name: UniqueNames
) -> None:
    broker = own_broker.broker
    group = unique_name("member")
    source, output = f"{group}-in", f"{group}-out"
    create_topics(broker, source, output)
    routes = Routes.from_delays(group=group, delays_ms=())
    create_topics(broker, routes.dlq)

    def copy(record: Record[bytes, bytes]) -> list[Output]:
        return [Output(topic=output, key=record.key, value=record.value)]

    processor = ConsumeLoop.for_handler(
        kafka=KafkaSettings(bootstrap_servers=broker.bootstrap_servers, client_id=group),
        settings=ProcessorSettings(
            group_id=group,
            consumer_extra={"session.timeout.ms": "6000", "heartbeat.interval.ms": "1000"},
        ),
        topics=[source],
        handler=copy,
        routes=routes,
    )
    with running(processor) as codes:
        wait_for(lambda: processor.health.ready, timeout_s=60)
        own_broker.pause()
        try:
            wait_for(lambda: not processor.health.ready, timeout_s=60)
            assert processor.health.reason() == "not a consumer group member"
            assert processor.health.alive  # polling on: no restart needed, only no traffic
        finally:
            own_broker.resume()
        wait_for(lambda: processor.health.ready, timeout_s=90)
    assert codes == [0]
