"""``make bench-latency``: open-loop latency of the order flow, every service a process.

Method (docs/benchmarks.md, "Latency (open loop)"): one broker of our own, both sandboxes at
their default latency, the four services as processes. The capacity of the order flow is
measured first (whole journeys per second, to the D365 invoice, for a burst), then orders arrive
at 25, 50 and 80 % of it with Poisson gaps, each latency measured from the arrival's intended
time and recorded in HdrHistograms; a bare Kafka round trip runs beside each load on the same
broker. Last, under 50 % load, the transformer is stopped for ``--outage-s`` and the drain of
its backlog is timed. Run: ``uv run python tests/bench/latency/bench_latency.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import confluent_kafka
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from hdrh.histogram import HdrHistogram
from rich.console import Console

from isthmus.devenv.broker import BrokerError, LocalKafka
from isthmus.devenv.demo import DemoDriver, DemoSettings
from isthmus.devenv.paths import find_root, local_dir
from isthmus.devenv.process import ManagedProcess
from isthmus.devenv.subscriptions import wire_sandboxes
from isthmus.devenv.supervisor import ChildSpec
from isthmus.devenv.system import SystemConfig, service_specs
from isthmus.devenv.tls import ensure_local_tls
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.testing.sandbox_d365 import running_sandbox_d365
from isthmus.testing.sandbox_s4 import running_sandbox_s4
from isthmus.testing.system import reset_sandboxes, system_config
from isthmus.transformer.adapters.flow_files import load_flow_set

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: tests.*
# A dependency installs a top-level ``tests`` package, which hides the repository's namespace
# package of that name outside pytest; look in the repository's folder first.
import tests

tests.__path__.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.bench.latency import figures, report  # noqa: E402
from tests.bench.latency.observers import (  # noqa: E402
    BARE_TOPIC,
    BareRoundTrip,
    KafkaSide,
    audit_follower,
)
from tests.bench.latency.rig import Rig, burst, open_loop  # noqa: E402

LOADS = (0.25, 0.50, 0.80)
TRANSFORMER_GROUP = "transformer"


@dataclass(frozen=True)
class Plan:
    """How long each part runs."""

    burst_orders: int
    load_s: float
    outage_s: float
    drain_timeout_s: float
    seed: int = 42

    @classmethod
    def of(cls, args: argparse.Namespace) -> Plan:
        if args.quick:
            return cls(burst_orders=60, load_s=8, outage_s=args.outage_s or 10, drain_timeout_s=90)
        return cls(burst_orders=300, load_s=60, outage_s=args.outage_s or 120, drain_timeout_s=150)


@dataclass
class System:
    """The services as processes (started, stopped, restarted by name)."""

    specs: dict[str, ChildSpec]
    log_dir: Path
    processes: dict[str, ManagedProcess]

    def start(self, name: str) -> None:
        spec = self.specs[name]
        process = ManagedProcess(
            name=name, argv=spec.argv, log_file=self.log_dir / f"{name}.log", env=spec.env
        )
        process.start()
        self.processes[name] = process
        assert spec.ready_url is not None
        process.wait_http_ready(spec.ready_url, timeout_s=spec.ready_timeout_s)

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop(timeout_s=30)


class Offsets:
    """The transformer group's committed offsets and the end offsets of its source topics."""

    def __init__(self, *, bootstrap: str, topics: list[str]) -> None:
        self._probe = Consumer({"bootstrap.servers": bootstrap, "group.id": TRANSFORMER_GROUP})
        metadata = self._probe.list_topics(timeout=30)
        self._parts = [TopicPartition(t, p) for t in topics for p in metadata.topics[t].partitions]

    def ends(self) -> dict[report.Partition, int]:
        return {
            (tp.topic, tp.partition): self._probe.get_watermark_offsets(tp, timeout=10)[1]
            for tp in self._parts
        }

    def committed(self) -> dict[report.Partition, int]:
        found = self._probe.committed(self._parts, timeout=10)
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    def close(self) -> None:
        self._probe.close()


class Bench:
    """The phases of one run, on one event loop, with the observers' threads beside it."""

    def __init__(self, *, rig: Rig, plan: Plan, bootstrap: str, system: System) -> None:
        self.rig, self.plan, self.system = rig, plan, system
        self.bootstrap = bootstrap
        self.kafka_side = KafkaSide(bootstrap=bootstrap)
        self.bare: dict[str, HdrHistogram] = {}
        self._bare_phase = ""
        self.round_trip = BareRoundTrip(bootstrap=bootstrap, record=self._bare_record)

    def _bare_record(self, seconds: float) -> None:
        if self._bare_phase:
            figures.record(self.bare[self._bare_phase], seconds)

    async def wait_done(self, phase: str, *, timeout_s: float) -> int:
        """Wait until every order of ``phase`` reached its journal entry; the ones still open."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            journeys = self.rig.journeys(phase)
            if journeys and all(j.done for j in journeys):
                return 0
            await asyncio.sleep(0.5)
        return sum(not j.done for j in self.rig.journeys(phase))

    async def capacity(self) -> float:
        """Whole journeys per second (to the D365 invoice) the chain does for a burst of orders,
        their human steps sent as their causes appear."""
        await burst(self.rig, phase="capacity", orders=self.plan.burst_orders, in_flight=16)
        left = await self.wait_done("capacity", timeout_s=self.plan.drain_timeout_s * 3)
        journeys = self.rig.journeys("capacity")
        rate = figures.journey_rate(journeys)
        created = sum(figures.Stage.S4_ORDER in j.at for j in journeys)
        print(
            f"capacity: {len(journeys) - left} whole journeys at {rate:.2f}/s "
            f"({created} S/4 orders created, {left} journeys not completed)",
            flush=True,
        )
        return rate

    async def load(self, phase: str, *, rate: float, seed: int) -> int:
        """Orders at ``rate`` for the load window, the bare round trip beside them."""
        offsets = figures.poisson_offsets(rate=rate, duration_s=self.plan.load_s, seed=seed)
        t0 = time.time() + 0.5
        self.bare[phase], self._bare_phase = figures.histogram(), phase
        stop = threading.Event()
        bare_offsets = figures.poisson_offsets(
            rate=rate, duration_s=self.plan.load_s, seed=seed + 1
        )
        sender = asyncio.create_task(
            asyncio.to_thread(self.round_trip.send, t0=t0, offsets=bare_offsets, stop=stop)
        )
        await open_loop(self.rig, phase=phase, t0=t0, offsets=offsets)
        await sender
        await asyncio.sleep(1.0)  # the bare records still in flight
        self._bare_phase = ""
        left = await self.wait_done(phase, timeout_s=self.plan.drain_timeout_s)
        print(f"{phase}: {len(offsets)} orders at {rate:.2f}/s, {left} not completed", flush=True)
        return left

    def kafka_side_histogram(self, phase: str) -> HdrHistogram:
        recorded = figures.histogram()
        for journey in self.rig.journeys(phase):
            seconds = self.kafka_side.latency(journey.order_id)
            if seconds is not None:
                figures.record(recorded, seconds)
        return recorded

    async def catch_up(self, *, rate: float, topics: list[str]) -> report.CatchUp:
        """Under ``rate``: the transformer stopped for the outage, restarted, its backlog timed."""
        offsets = Offsets(bootstrap=self.bootstrap, topics=topics)
        lead_s, horizon = 10.0, 10.0 + self.plan.outage_s + self.plan.drain_timeout_s
        schedule = figures.poisson_offsets(rate=rate, duration_s=horizon, seed=self.plan.seed + 9)
        load = asyncio.create_task(
            open_loop(self.rig, phase="outage", t0=time.time(), offsets=schedule)
        )
        try:
            await asyncio.sleep(lead_s)
            await asyncio.to_thread(self.system.processes["transformer"].stop, timeout_s=30)
            stopped, at_stop = time.time(), await asyncio.to_thread(offsets.ends)
            await asyncio.sleep(self.plan.outage_s)
            targets = await asyncio.to_thread(offsets.ends)
            committed = await asyncio.to_thread(offsets.committed)
            restarted = time.time()
            drain_s, ready_s = await self._drain(
                offsets, targets=targets, baseline=at_stop, restarted=restarted
            )
        finally:
            load.cancel()
            offsets.close()
        return report.CatchUp(
            backlog=report.backlog(committed=committed, ends=targets, baseline=at_stop),
            outage_s=restarted - stopped,
            arrived=sum(end - at_stop.get(tp, 0) for tp, end in targets.items()),
            drain_s=drain_s,
            ready_s=ready_s,
        )

    async def _drain(
        self,
        offsets: Offsets,
        *,
        targets: dict[report.Partition, int],
        baseline: dict[report.Partition, int],
        restarted: float,
    ) -> tuple[float, float]:
        """Start the transformer; seconds until its group committed past ``targets``, and
        seconds until it answered /readyz."""

        def start() -> float:
            self.system.start("transformer")
            return time.time()

        ready = asyncio.create_task(asyncio.to_thread(start))
        committed: dict[report.Partition, int] = {}
        while not report.drained(committed=committed, targets=targets, baseline=baseline):
            if time.time() - restarted > self.plan.drain_timeout_s:
                break
            await asyncio.sleep(0.1)
            committed = await asyncio.to_thread(offsets.committed)
        drain_s = time.time() - restarted
        return drain_s, await ready - restarted


async def _phases(bench: Bench, *, source_topics: list[str]) -> None:
    """Capacity, the three loads, the outage; prints every figure."""
    capacity = await bench.capacity()
    labels = {load: f"{load:.0%}" for load in LOADS}
    for number, load in enumerate(LOADS):
        await bench.load(labels[load], rate=capacity * load, seed=bench.plan.seed + number)
    hops = {
        label: {
            name: figures.Summary.of(recorded)
            for name, recorded in figures.hop_histograms(bench.rig.journeys(label)).items()
        }
        for label in labels.values()
    }
    kafka = {
        label: {
            report.KAFKA_SIDE: figures.Summary.of(bench.kafka_side_histogram(label)),
            report.BARE: figures.Summary.of(bench.bare[label]),
        }
        for label in labels.values()
    }
    catch_up = await bench.catch_up(rate=capacity * 0.5, topics=source_topics)
    print(
        f"\ncapacity of the order flow: {capacity:.2f} whole journeys/s; loads "
        + ", ".join(f"{label} = {capacity * load:.2f}/s" for load, label in labels.items())
    )
    print(report.hop_table(hops))
    print()
    print(report.hop_table(kafka))
    for label in labels.values():
        ratios = report.Ratios.of(
            kafka_side=kafka[label][report.KAFKA_SIDE], bare=kafka[label][report.BARE]
        )
        print("\n".join(ratios.lines(label)))
    print(catch_up.line(), flush=True)
    if bench.rig.failures:
        print(f"failed calls: {len(bench.rig.failures)}, first: {bench.rig.failures[:3]}")


def _machine_line(repo: Path) -> str:
    jars = sorted((local_dir(repo) / "jars" / "kafka").glob("kafka-server-[0-9]*.jar"))
    kafka = jars[0].stem.rsplit("-", 1)[-1] if jars else "?"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), load average {load}; "
        f"Python {platform.python_version()}, confluent-kafka {version('confluent-kafka')}, "
        f"librdkafka {confluent_kafka.libversion()[0]}, hdrhistogram {version('hdrhistogram')}, "
        f"httpx {version('httpx')}, Apache Kafka {kafka}"
    )


def _start_broker(broker: LocalKafka) -> str:
    """Start the broker; a cluster id starting with '-' trips the storage tool, so retry fresh."""
    for attempt in range(3):
        try:
            return broker.up().bootstrap_servers
        except BrokerError:
            if attempt == 2:
                raise
            shutil.rmtree(broker.data_dir, ignore_errors=True)
    raise AssertionError("unreachable")


def _topics(repo: Path, bootstrap: str) -> list[str]:
    """Provision the catalogue and the bare round trip's topic; the source event topics."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    catalogue = load_catalogue(repo / "deploy" / "topics.yaml")
    TopicProvisioner(admin=admin).apply(catalogue, replication_factor=1)
    for future in admin.create_topics([NewTopic(BARE_TOPIC, 6, 1)]).values():
        future.result(timeout=30)
    return load_flow_set(repo / "flows").source_topics  # what the transformer consumes


def _system(config: SystemConfig, log_dir: Path) -> System:
    system = System(
        specs={spec.name: spec for spec in service_specs(config=config)},
        log_dir=log_dir,
        processes={},
    )
    for name in system.specs:
        system.start(name)
    wire_sandboxes(
        d365_url=config.d365_url, s4_url=config.s4_url, ingress_url=config.ingress_url,
        ca_file=config.ca_file,
    )  # fmt: skip
    return system


def _customers(config: SystemConfig, *, count: int) -> DemoDriver:
    """The demo's customers, each linked to its S/4 business partner, and the stock."""
    driver = DemoDriver(
        d365_url=config.d365_url, s4_url=config.s4_url, ca_file=config.ca_file,
        bootstrap_servers=config.bootstrap_servers, out=Console(file=io.StringIO()),
        settings=DemoSettings(customers=count),
    )  # fmt: skip
    driver.set_up()
    deadline = time.monotonic() + 120
    while not driver.customers_ready():
        if time.monotonic() > deadline:
            raise RuntimeError("the customers did not reach S/4 in 120 s")
        time.sleep(1)
        driver.poll()
    return driver


def _hand_over(loop: asyncio.AbstractEventLoop, rig: Rig, event: dict[str, Any]) -> None:
    """Pass an audit event from the follower's thread to the rig on the loop's thread."""
    loop.call_soon_threadsafe(rig.on_audit, event)


async def _run(config: SystemConfig, system: System, plan: Plan, topics: list[str]) -> None:
    driver = _customers(config, count=6)
    rig = Rig(
        d365_url=config.d365_url, s4_url=config.s4_url, ca_file=config.ca_file,
        catalogue=driver.d365.catalogue(), accounts=driver.ready_accounts,
    )  # fmt: skip
    driver.close()
    await rig.sign_in()
    bench = Bench(rig=rig, plan=plan, bootstrap=config.bootstrap_servers, system=system)
    loop = asyncio.get_running_loop()
    audit = audit_follower(
        bootstrap=config.bootstrap_servers,
        schemas_dir=config.root / "schemas",
        on_event=lambda event: _hand_over(loop, rig, event),
    )
    followers = [audit, bench.kafka_side.follower, bench.round_trip.follower]
    for follower in followers:
        follower.start()
    await asyncio.sleep(2.0)  # the followers' positions resolved before the first order
    try:
        await _phases(bench, source_topics=topics)
    finally:
        for follower in followers:
            follower.stopping.set()
        for follower in followers:  # none hands the loop an event once it is closed
            await asyncio.to_thread(follower.join, 30)
        await rig.close()


def main() -> int:
    """Run the bench and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short windows, a small outage")
    parser.add_argument("--outage-s", type=float, default=0.0, help="transformer outage (s)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    plan = Plan.of(args)
    repo = find_root(Path(__file__))
    work = Path(tempfile.mkdtemp(prefix="isthmus-bench-latency-"))
    kafka_dir = repo / "deploy" / "local" / "kafka"
    broker = LocalKafka(
        data_dir=work / "kafka", pom=kafka_dir / "pom.xml",
        jars_dir=local_dir(repo) / "jars" / "kafka", log4j_config=kafka_dir / "log4j2.properties",
    )  # fmt: skip
    print(_machine_line(repo), flush=True)
    system: System | None = None
    try:
        bootstrap = _start_broker(broker)
        topics = _topics(repo, bootstrap)
        tls = ensure_local_tls(work / "tls")
        s4_env = {
            "ISTHMUS_SANDBOX_S4_WEBHOOK_CA_FILE": str(tls.ca_cert),
            "ISTHMUS_SANDBOX_S4_PARENT_PID": str(os.getpid()),
        }
        with ExitStack() as stack:
            d365 = stack.enter_context(running_sandbox_d365(work / "d365", tls))
            s4 = stack.enter_context(running_sandbox_s4(work / "s4", tls, env=s4_env))
            reset_sandboxes(d365, s4)
            config = system_config(root=repo, bootstrap_servers=bootstrap, d365=d365, s4=s4)
            system = _system(config, work / "logs")
            try:
                asyncio.run(_run(config, system, plan, topics))
            finally:
                system.stop_all()
        print(_machine_line(repo))
    finally:
        broker.down()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
