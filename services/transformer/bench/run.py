"""``make bench-transformer``: the transformer vs B1s and a Faust agent, same broker, same run.

Method (docs/benchmarks.md): one broker of our own in a temp dir pinned to
core 0, every candidate pinned to core 1, N real sales-order events pre-loaded so nothing
produces input during the drain. Each candidate drains the same topic from the earliest offset
with its own group; its throughput is read from the timestamps of its output records, dropping
the first 10 % as warm-up. Candidates run interleaved, repeated; median and min-max reported.
The Faust peer runs twice: at its default (at-least-once) and exactly-once, the like-for-like
comparison with the transformer's transactions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
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
    main_thread_share: float = float("nan")
    """Share of the process's CPU spent in its main (Python) thread while draining; the rest
    is librdkafka's threads and any helper threads."""


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


def _cpu_seconds(pid: int, task: int | None = None) -> float:
    stat = Path(f"/proc/{pid}/stat" if task is None else f"/proc/{pid}/task/{task}/stat")
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _output_window(bootstrap: str, topic: str, expected: int) -> tuple[int, float, float]:
    """Output records read back, and the measured window (epoch s) after the first 10 %."""
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
    if len(stamps) < 2:  # noqa: PLR2004 - a window needs two ends
        return len(stamps), 0.0, 0.0
    return len(stamps), stamps[len(stamps) // 10] / 1000, stamps[-1] / 1000


def _sample(pid: int, cpu: list[tuple[float, float]], main: list[tuple[float, float]]) -> None:
    """Note the process's and its main thread's CPU seconds now."""
    now = time.time()
    cpu.append((now, _cpu_seconds(pid)))
    main.append((now, _cpu_seconds(pid, pid)))


def _cpu_at(samples: list[tuple[float, float]], moment: float) -> float:
    """The process's CPU seconds at ``moment``, interpolated between (wall s, CPU s) samples."""
    before = max((s for s in samples if s[0] <= moment), default=samples[0])
    after = min((s for s in samples if s[0] >= moment), default=samples[-1])
    if after[0] <= before[0]:
        return before[1]
    share = (moment - before[0]) / (after[0] - before[0])
    return before[1] + share * (after[1] - before[1])


def _run(
    *, name: str, argv: list[str], env: dict[str, str], group: str, output: str,
    bootstrap: str, events: int, log: Path,
) -> Measured:  # fmt: skip
    with log.open("ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own argv, taskset from PATH
            ["taskset", "-c", "1", *argv], env={**os.environ, **env}, stdout=sink,  # noqa: S607
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + max(180.0, events / 200)
    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    cpu: list[tuple[float, float]] = []  # (epoch s, process CPU s), sampled while draining
    main: list[tuple[float, float]] = []  # (epoch s, main thread CPU s), the same moments
    while _committed(probe) < events:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            probe.close()
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"{name} stopped before draining the input:\n{tail}")
        _sample(process.pid, cpu, main)
        time.sleep(0.1)
    _sample(process.pid, cpu, main)
    probe.close()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    records, start, end = _output_window(bootstrap, output, events)
    measured = records - records // 10
    if end <= start:
        return Measured(name, records, 0.0, float("nan"))
    # The rate's window: from the output record after the warm-up 10 % to the last one; the
    # CPU of the same window, so start-up, group joins and the commit interval do not count.
    used = _cpu_at(cpu, end) - _cpu_at(cpu, start)
    cpu_us = 1e6 * used / measured
    share = (_cpu_at(main, end) - _cpu_at(main, start)) / used if used > 0 else float("nan")
    return Measured(name, records, measured / (end - start), cpu_us, share)


def _transformer_flows(repo: Path, folder: Path, output: str) -> None:
    shutil.copytree(repo / "flows" / "lookups", folder / "lookups")
    text = (repo / "flows" / FLOW).read_text().replace("s4.salesorder.commands", output)
    (folder / FLOW).write_text(text)


def _candidates(
    repo: Path, work: Path, bootstrap: str, xref_file: Path, admin: AdminClient, *,
    profiled: bool = False,
) -> dict[str, Callable[[int], tuple[list[str], dict[str, str], str, str]]]:  # fmt: skip
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
        stats = str(work / f"transformer-{run}.prof")
        entry = [str(BENCH / "profiled.py"), stats] if profiled else ["-m", "isthmus.transformer"]
        return [python, *entry], env, group, out

    def faust_peer(guarantee: str) -> Callable[[int], tuple[list[str], dict[str, str], str, str]]:
        def prepare(run: int) -> tuple[list[str], dict[str, str], str, str]:
            label = "faust-eos" if guarantee == "exactly_once" else "faust"
            group, out = f"bench-{label}-{run}", f"bench.{label}.out.{run}"
            _topics(admin, [out])
            return [python, str(BENCH / "faust_peer.py"), bootstrap, group, SOURCE, out,
                    str(repo), str(xref_file), guarantee], {}, group, out  # fmt: skip

        return prepare

    return {
        "B1s": b1s, "transformer": transformer,
        "faust": faust_peer("at_least_once"), "faust-eos": faust_peer("exactly_once"),
    }  # fmt: skip


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
        "transformer/faust-eos": rate("transformer") / rate("faust-eos"),
        "transformer/faust": rate("transformer") / rate("faust"),
        "transformer/B1s by CPU": cpu("B1s") / cpu("transformer"),
        "transformer/faust-eos by CPU": cpu("faust-eos") / cpu("transformer"),
        "transformer/faust by CPU": cpu("faust") / cpu("transformer"),
    }
    for label, value in ratios.items():
        if "faust-eos" in label:
            target = "target >= 3, like for like: both exactly-once"
        elif "faust" in label:
            target = "Faust's default at-least-once, for reference"
        else:
            target = "target >= 0.6"
        lines.append(f"{label:<30} = {value:5.2f}  ({target})")
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
    parser.add_argument(
        "--only", default="", help="comma-separated candidates to run (default: all; the "
        "ratios need B1s, transformer, faust and faust-eos)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="run the transformer under cProfile and print its N costliest functions "
        "(its figures then are not comparable)",
    )  # fmt: skip
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
        candidates = _candidates(repo, work, bootstrap, xref_file, admin, profiled=args.profile > 0)
        if args.only:
            candidates = {n: c for n, c in candidates.items() if n in args.only.split(",")}
        results: dict[str, list[Measured]] = {name: [] for name in candidates}
        for run in range(args.repeats):
            for name, prepare in candidates.items():
                argv, env, group, out = prepare(run)
                measured = _run(name=name, argv=argv, env=env, group=group, output=out,
                                bootstrap=bootstrap, events=args.events,
                                log=work / f"{name}.log")  # fmt: skip
                print(
                    f"run {run + 1} {name}: {measured.rate:,.0f} records/s, "
                    f"{measured.cpu_us_per_record:,.0f} us CPU/record, "
                    f"{measured.main_thread_share:.0%} of it in the main thread",
                    flush=True,
                )
                results[name].append(measured)
        for profile in sorted(work.glob("transformer-*.prof"))[: 1 if args.profile else 0]:
            pstats.Stats(str(profile)).sort_stats("tottime").print_stats(args.profile)
        if len(results) < 4:  # noqa: PLR2004 - the four candidates of the ratios
            return 0
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
