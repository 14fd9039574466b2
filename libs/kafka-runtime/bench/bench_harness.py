"""Benchmark plumbing: a private broker pinned to one core, topics, input, and timings."""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from isthmus.devenv.broker import LocalKafka

Headers = list[tuple[str, bytes]]


def start_broker(*, root: Path, data_dir: Path) -> LocalKafka:
    """A fresh single-node KRaft broker (1 GB heap) whose data lives in ``data_dir``."""
    kafka_dir = root / "deploy" / "local" / "kafka"
    broker = LocalKafka(
        data_dir=data_dir,
        pom=kafka_dir / "pom.xml",
        jars_dir=root / ".local" / "jars" / "kafka",
        log4j_config=kafka_dir / "log4j2.properties",
        heap="1g",
    )
    broker.up()
    return broker


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of process ``pid`` to ``cpus`` (threads started later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except (ProcessLookupError, PermissionError):
            continue


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process used so far (all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def create_topic(admin: AdminClient, name: str, *, partitions: int) -> None:
    """Create a topic (RF 1) and wait for it."""
    futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    for future in futures.values():
        future.result(timeout=60)
    deadline = time.monotonic() + 30
    while name not in admin.list_topics(timeout=10).topics and time.monotonic() < deadline:
        time.sleep(0.1)


def delete_topic(admin: AdminClient, name: str) -> None:
    """Delete a topic to give its disk space back."""
    for future in admin.delete_topics([name], operation_timeout=60).values():
        future.result(timeout=60)


def preload(*, bootstrap: str, topic: str, records: list[tuple[bytes, bytes, Headers]]) -> None:
    """Produce the input once, idempotently, before any measurement."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "linger.ms": 20,
            "compression.type": "lz4",
        }
    )
    for key, value, headers in records:
        while True:
            try:
                producer.produce(topic, value, key, headers=list(headers))
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(120) != 0:
        raise RuntimeError("input not fully acknowledged")


@dataclass
class Result:
    """All repetitions of one variant."""

    variant: str
    rates: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    broker_cpu: list[float] = field(default_factory=list)

    def add(self, *, records: int, seconds: float, cpu_s: float, broker_cpu_s: float) -> None:
        """Record one repetition."""
        self.rates.append(records / seconds)
        self.cpu_us.append(cpu_s / records * 1e6)
        self.broker_cpu.append(broker_cpu_s / seconds)

    @property
    def median(self) -> float:
        """Median records per second."""
        return statistics.median(self.rates)

    def line(self) -> str:
        """One table row: median, min-max, CPU per record, broker cores used."""
        return (
            f"{self.variant:<16} {self.median:>10,.0f}  {min(self.rates):>9,.0f}-"
            f"{max(self.rates):<9,.0f} {statistics.median(self.cpu_us):>9.1f}"
            f" {statistics.median(self.broker_cpu):>8.2f}"
        )
