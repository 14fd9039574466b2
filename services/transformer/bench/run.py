"""``make bench-transformer``: the transformer vs B1s and a Faust agent, same broker, same run.

Method (/work/shared/reference/measuring.md): one broker of our own in a temp dir pinned to
core 0, every candidate pinned to core 1, N real sales-order events pre-loaded so nothing
produces input during the drain. Each candidate drains the same topic from the earliest offset
with its own group; its throughput is read from the timestamps of its output records, dropping
the first 10 % as warm-up. Candidates run interleaved, repeated; median and min-max reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from isthmus.devenv.broker import BrokerError, LocalKafka
from isthmus.devenv.paths import find_root, local_dir
from isthmus.devenv.ports import free_port
from isthmus.schemas import SchemaSettings, SerdeFactory

sys.path.insert(0, str(Path(__file__).parent))
from workload import (  # type: ignore[import-not-found]
    customers,
    load_sample,
    order_events,
    preload,
    preload_xref,
)

SOURCE, XREF, PARTITIONS = "d365.salesorder.events", "xref.ids", 6
BENCH = Path(__file__).parent
FLOW = "d365-salesorder-to-s4.yaml"
_QUIET_S = 10.0


@dataclass
class Measured:
    """One candidate run: records out, rate over the measured window, CPU µs per record."""

    name: str
    records: int
    rate: float
    cpu_us_per_record: float


def _topics(admin: AdminClient, names: list[str], *, compact: bool = False) -> None:
    config = {"cleanup.policy": "compact"} if compact else {}
    futures = admin.create_topics([NewTopic(n, PARTITIONS, 1, config=config) for n in names])
    for future in futures.values():
        future.result(timeout=30)


def _committed(probe: Consumer) -> int:
    """Committed offsets of the probe's group on the input (a consumer that never joins)."""
    parts = [TopicPartition(SOURCE, p) for p in range(PARTITIONS)]
    try:
        return sum(max(tp.offset, 0) for tp in probe.committed(parts, timeout=10))
    except KafkaException:
        return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _output_rate(bootstrap: str, topic: str, expected: int) -> tuple[int, float]:
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": f"bench-reader-{topic}",
        "auto.offset.reset": "earliest", "isolation.level": "read_committed",
        "enable.auto.commit": False,
    })  # fmt: skip
    consumer.subscribe([topic])
    stamps: list[int] = []
    quiet = time.monotonic()
    while len(stamps) < expected and time.monotonic() - quiet < _QUIET_S:
        batch = [m for m in consumer.consume(1000, timeout=0.5) if m.error() is None]
        stamps += [m.timestamp()[1] for m in batch]
        quiet = time.monotonic() if batch else quiet
    consumer.close()
    stamps.sort()
    start = len(stamps) // 10
    window_s = (stamps[-1] - stamps[start]) / 1000 if len(stamps) > 1 else 0.0
    return len(stamps), (len(stamps) - start) / window_s if window_s else 0.0


def _run(
    *, name: str, argv: list[str], env: dict[str, str], group: str, output: str,
    admin: AdminClient, bootstrap: str, events: int, log: Path,
) -> Measured:  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own argv, taskset from PATH
            ["taskset", "-c", "1", *argv], env={**os.environ, **env}, stdout=sink,  # noqa: S607
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + max(180.0, events / 200)
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    samples: list[tuple[int, float]] = []  # (committed, cpu seconds) while draining
    while not samples or samples[-1][0] < events:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            probe.close()
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"{name} stopped before draining the input:\n{tail}")
        committed = _committed(probe)
        if committed:
            samples.append((committed, _cpu_seconds(process.pid)))
        time.sleep(0.25)
    probe.close()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    records, rate = _output_rate(bootstrap, output, events)
    (first, cpu_first), (last, cpu_last) = samples[0], samples[-1]
    # CPU after the first commit only: start-up and imports are not the per-record cost
    cpu_us = 1e6 * (cpu_last - cpu_first) / (last - first) if last > first else float("nan")
    return Measured(name, records, rate, cpu_us)


def _transformer_flows(repo: Path, folder: Path, output: str) -> None:
    shutil.copytree(repo / "flows" / "lookups", folder / "lookups")
    text = (repo / "flows" / FLOW).read_text().replace("s4.salesorder.commands", output)
    (folder / FLOW).write_text(text)


def _candidates(
    repo: Path, work: Path, bootstrap: str, xref_file: Path, admin: AdminClient
) -> dict[str, Callable[[int], tuple[list[str], dict[str, str], str, str]]]:
    python = sys.executable

    def b1s(run: int) -> tuple[list[str], dict[str, str], str, str]:
        group, out = f"bench-b1s-{run}", f"bench.b1s.out.{run}"
        _topics(admin, [out])
        return [python, str(BENCH / "b1s.py"), bootstrap, group, SOURCE, out,
                str(repo / "schemas")], {}, group, out  # fmt: skip

    def transformer(run: int) -> tuple[list[str], dict[str, str], str, str]:
        group, out = f"bench-transformer-{run}", f"bench.transformer.out.{run}"
        _topics(admin, [out, f"{group}.dlq", f"{group}.retry.10s", f"{group}.retry.1m"])
        _topics(admin, [f"{group}.parked"], compact=True)
        folder = work / f"flows-{run}"
        _transformer_flows(repo, folder, out)
        p = "ISTHMUS_TRANSFORMER_"
        env = {
            f"{p}KAFKA__BOOTSTRAP_SERVERS": bootstrap, f"{p}PROCESSOR__GROUP_ID": group,
            f"{p}FLOWS__DIRECTORY": str(folder), f"{p}HTTP__PORT": str(free_port()),
            f"{p}TOPICS_FILE": str(repo / "deploy" / "topics.yaml"),
            f"{p}SCHEMAS__SCHEMAS_DIR": str(repo / "schemas"), f"{p}LOG_LEVEL": "WARNING",
        }  # fmt: skip
        return [python, "-m", "isthmus.transformer"], env, group, out

    def faust_peer(run: int) -> tuple[list[str], dict[str, str], str, str]:
        group, out = f"bench-faust-{run}", f"bench.faust.out.{run}"
        _topics(admin, [out])
        return [python, str(BENCH / "faust_peer.py"), bootstrap, group, SOURCE, out,
                str(repo), str(xref_file)], {}, group, out  # fmt: skip

    return {"B1s": b1s, "transformer": transformer, "faust": faust_peer}


def _report(results: dict[str, list[Measured]], *, events: int, size: float) -> dict[str, object]:
    def rate(name: str) -> float:
        return statistics.median(m.rate for m in results[name])

    def cpu(name: str) -> float:
        return statistics.median(m.cpu_us_per_record for m in results[name])

    lines = [
        f"{events} events, mean {size:.0f} B (Avro single-object encoding, no registry); "
        "broker pinned to core 0, each candidate to core 1",
        f"{'candidate':<12} {'median/s':>9} {'min-max/s':>15} {'CPU us/rec':>11}",
    ]
    for name, runs in results.items():
        rates = [m.rate for m in runs]
        low_high = f"{min(rates):,.0f}-{max(rates):,.0f}"
        lines.append(f"{name:<12} {rate(name):>9,.0f} {low_high:>15} {cpu(name):>11,.0f}")
    ratios = {
        "transformer/B1s": rate("transformer") / rate("B1s"),
        "transformer/faust": rate("transformer") / rate("faust"),
        "transformer/B1s by CPU": cpu("B1s") / cpu("transformer"),
        "transformer/faust by CPU": cpu("faust") / cpu("transformer"),
    }
    targets = {"B1s": ">= 0.6", "faust": ">= 3"}
    for label, value in ratios.items():
        target = targets["faust" if "faust" in label else "B1s"]
        lines.append(f"{label:<26} = {value:5.2f}  (target {target})")
    print("\n".join(lines))
    return {
        "events": events, "mean_bytes": size, "ratios": ratios,
        "runs": {n: [m.__dict__ for m in r] for n, r in results.items()},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "versions": {p: version(p) for p in ("confluent-kafka", "fastavro", "faust-streaming")},
        "python": platform.python_version(),
    }  # fmt: skip


def _start(broker: LocalKafka) -> str:
    """Start the broker; a cluster id starting with '-' trips the storage tool, so retry fresh."""
    for attempt in range(3):
        try:
            return broker.up().bootstrap_servers
        except BrokerError:
            if attempt == 2:  # noqa: PLR2004 - the third attempt's error is the answer
                raise
            shutil.rmtree(broker.data_dir, ignore_errors=True)
    raise AssertionError("unreachable")


def main() -> int:
    """Run the bench; print the table and the two ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    repo = find_root(Path(__file__))
    work = Path(tempfile.mkdtemp(prefix="isthmus-bench-transformer-"))
    kafka_dir = repo / "deploy" / "local" / "kafka"
    broker = LocalKafka(
        data_dir=work / "kafka", pom=kafka_dir / "pom.xml",
        jars_dir=local_dir(repo) / "jars" / "kafka",
        log4j_config=kafka_dir / "log4j2.properties", heap="1g",
    )  # fmt: skip
    try:
        bootstrap = _start(broker)
        subprocess.run(["taskset", "-a", "-cp", "0", str(broker.pid())], check=True,  # noqa: S603,S607
                       capture_output=True)  # fmt: skip
        admin = AdminClient({"bootstrap.servers": bootstrap})
        _topics(admin, [SOURCE, "audit.events"])
        _topics(admin, [XREF], compact=True)
        serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=repo / "schemas"))
        producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                             "enable.idempotence": True})  # fmt: skip
        pool = customers(2000)
        events = order_events(count=args.events, sample=load_sample(repo), pool=pool)
        written = preload(producer=producer, serdes=serdes, topic=SOURCE, events=events)
        preload_xref(producer=producer, serdes=serdes, topic=XREF, pool=pool)
        xref_file = work / "xref.json"
        xref_file.write_text(json.dumps(dict(pool)))
        candidates = _candidates(repo, work, bootstrap, xref_file, admin)
        results: dict[str, list[Measured]] = {name: [] for name in candidates}
        for run in range(args.repeats):
            for name, prepare in candidates.items():
                argv, env, group, out = prepare(run)
                measured = _run(name=name, argv=argv, env=env, group=group, output=out,
                                admin=admin, bootstrap=bootstrap, events=args.events,
                                log=work / f"{name}.log")  # fmt: skip
                print(
                    f"run {run + 1} {name}: {measured.rate:,.0f} records/s, "
                    f"{measured.cpu_us_per_record:,.0f} us CPU/record",
                    flush=True,
                )
                results[name].append(measured)
        report = _report(results, events=args.events, size=written / args.events)
        errors = (
            sum("ERROR" in line for line in (work / "kafka" / "logs" / "server.log").open())
            if (work / "kafka" / "logs" / "server.log").exists()
            else 0
        )
        report["broker_error_lines"] = errors
        saved = local_dir(repo) / "bench" / "transformer.json"
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(report, indent=2))
        print(f"broker ERROR lines: {errors}; results in {saved}")
    finally:
        broker.down()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
