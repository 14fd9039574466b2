"""``make bench``: B1, B1s and the runtime loop (at-least-once, exactly-once) side by side.

Method: docs/benchmarks.md (after the shared measuring guide). One private broker pinned to core
0, this process (and so librdkafka's threads) pinned to core 1, the same pre-loaded Avro input
read from the beginning by every run, variants interleaved, a warm-up round discarded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import confluent_kafka
from bench_baselines import fastavro_roundtrip, passthrough
from bench_harness import (
    Headers,
    Result,
    cpu_seconds,
    create_topic,
    delete_topic,
    pin,
    preload,
    start_broker,
)
from bench_payloads import RecordFactory, zipf_keys
from confluent_kafka.admin import AdminClient

from isthmus.kafka.headers import CloudEvent
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.records import Output, Record
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.schemas import AvroDeserializer, AvroSerializer, SchemaCatalogue

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = "io.isthmus.d365.SalesOrderEvent"
TARGET = 0.8
Runner = Callable[[str, str, int], tuple[float, float]]


def main() -> None:
    """Parse options, run every variant, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=15_000)
    parser.add_argument("--repetitions", type=int, default=5)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    args = parser.parse_args()
    catalogue = SchemaCatalogue.load(ROOT / "schemas")
    schema = catalogue.get(SCHEMA)
    inputs = _inputs(schema.text, AvroSerializer(schema=schema), args.records)
    data_dir = Path(tempfile.mkdtemp(prefix="isthmus-bench-"))
    broker = start_broker(root=ROOT, data_dir=data_dir)
    try:
        broker_pid = broker.pid() or 0
        pin(broker_pid, {0})
        os.sched_setaffinity(0, {1})
        bootstrap = broker.state().bootstrap_servers
        admin = AdminClient({"bootstrap.servers": bootstrap})
        create_topic(admin, "bench.input", partitions=args.partitions)
        preload(bootstrap=bootstrap, topic="bench.input", records=inputs)
        runners = _runners(KafkaSettings(bootstrap_servers=bootstrap), catalogue, schema)
        results = _measure(admin, runners, broker_pid, args)
    finally:
        broker.down()
        shutil.rmtree(data_dir, ignore_errors=True)
    _report(results, args, sum(len(v) for _, v, _ in inputs) / len(inputs))


def _inputs(
    schema_text: str, serializer: AvroSerializer, count: int
) -> list[tuple[bytes, bytes, Headers]]:
    factory = RecordFactory()
    schema_json = json.loads(schema_text)
    distinct = [serializer(factory.record(schema_json), None) or b"" for _ in range(500)]
    keys = zipf_keys(count=count, distinct=5_000)
    sequence: dict[bytes, int] = {}
    records = []
    for index, key in enumerate(keys):
        sequence[key] = sequence.get(key, 0) + 1
        event = CloudEvent(
            id=str(uuid.uuid4()), source="/d365/bench", type="io.isthmus.d365.salesorder.changed",
            time=datetime.now(tz=UTC), subject=key.decode(),
        )  # fmt: skip
        headers = [(k, v) for k, v in event.headers().items() if v is not None]
        headers.append(("isthmus_seq", str(sequence[key]).encode()))
        records.append((key, distinct[index % len(distinct)], headers))
    return records


def _runners(kafka: KafkaSettings, catalogue: SchemaCatalogue, schema: Any) -> dict[str, Runner]:
    roundtrip = fastavro_roundtrip(schema.parsed)

    def bare(transform: Any) -> Runner:
        return lambda output, group, count: passthrough(
            kafka=kafka, source="bench.input", output=output, group=group, count=count,
            transform=transform,
        )  # fmt: skip

    def runtime(exactly_once: bool) -> Runner:
        return lambda output, group, count: _runtime(
            kafka, catalogue, schema, output=output, group=group, count=count,
            exactly_once=exactly_once,
        )  # fmt: skip

    return {
        "B1": bare(None),
        "B1s": bare(roundtrip),
        "R at-least-once": runtime(False),
        "R exactly-once": runtime(True),
    }


def _runtime(
    kafka: KafkaSettings,
    catalogue: SchemaCatalogue,
    schema: Any,
    *,
    output: str,
    group: str,
    count: int,
    exactly_once: bool,
) -> tuple[float, float]:
    seen = [0]
    start = [0.0]
    processor: ConsumeLoop

    def identity(record: Record[bytes, Any]) -> list[Output]:
        if not seen[0]:
            start[0] = time.perf_counter()
        seen[0] += 1
        if seen[0] >= count:
            processor.stop()
        return [Output(topic=output, key=record.key, value=record.value)]

    processor = ConsumeLoop.for_handler(
        kafka=kafka,
        settings=ProcessorSettings(group_id=group, exactly_once=exactly_once),
        topics=["bench.input"],
        handler=identity,
        routes=Routes.from_delays(group=group, delays_ms=()),
        value_deserializer=AvroDeserializer(catalogue=catalogue, reader=schema),
        value_serializer=AvroSerializer(schema=schema),
    )
    if processor.run() != 0:
        raise RuntimeError("the runtime loop stopped with an error")
    return start[0], time.perf_counter()


def _measure(
    admin: AdminClient, runners: dict[str, Runner], broker_pid: int, args: argparse.Namespace
) -> dict[str, Result]:
    results = {name: Result(name) for name in runners}
    for repetition in range(args.repetitions + 1):
        warm_up = repetition == 0
        count = args.records // 5 if warm_up else args.records
        for name, runner in runners.items():
            output = f"bench.output.{uuid.uuid4().hex[:8]}"
            create_topic(admin, output, partitions=args.partitions)
            cpu_before, broker_before = time.process_time(), cpu_seconds(broker_pid)
            start, end = runner(output, f"bench-{uuid.uuid4().hex[:8]}", count)
            cpu = time.process_time() - cpu_before
            broker_cpu = cpu_seconds(broker_pid) - broker_before
            delete_topic(admin, output)
            label = "warm-up" if warm_up else f"run {repetition}"
            print(f"  {label:<8} {name:<16} {count / (end - start):>10,.0f} records/s", flush=True)
            if not warm_up:
                results[name].add(
                    records=count, seconds=end - start, cpu_s=cpu, broker_cpu_s=broker_cpu
                )
    return results


def _report(results: dict[str, Result], args: argparse.Namespace, mean_size: float) -> None:
    print()
    print(_machine(args, mean_size))
    print(
        f"{'variant':<16} {'median/s':>10}  {'min-max':<19} {'CPU µs/rec':>9} {'broker cores':>8}"
    )
    for result in results.values():
        print(result.line())
    b1, b1s = results["B1"].median, results["B1s"].median
    ratios = {}
    for mode in ("at-least-once", "exactly-once"):
        r = results[f"R {mode}"].median
        by_cpu = statistics.median(results["B1s"].cpu_us) / statistics.median(
            results[f"R {mode}"].cpu_us
        )
        ratios[mode] = {"R/B1s": r / b1s, "R/B1": r / b1, "R/B1s by CPU": by_cpu}
        print(
            f"R {mode:<14} R/B1s = {r / b1s:.2f}   R/B1 = {r / b1:.2f}   "
            f"R/B1s by CPU per record = {by_cpu:.2f}"
        )
    target = ratios["at-least-once"]["R/B1s"]
    print(f"target R/B1s >= {TARGET:.2f} at-least-once: {'met' if target >= TARGET else 'NOT met'}")
    if args.json:
        figures = {
            name: {"median": r.median, "rates": r.rates, "cpu_us": r.cpu_us}
            for name, r in results.items()
        }
        args.json.write_text(json.dumps({"results": figures, "ratios": ratios}, indent=2))


def _machine(args: argparse.Namespace, mean_size: float) -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    jars = sorted(p.name for p in (ROOT / ".local" / "jars" / "kafka").glob("kafka-clients-*.jar"))
    kafka = jars[0].removeprefix("kafka-clients-").removesuffix(".jar") if jars else "?"
    return (
        f"machine: {cpu}, {os.cpu_count()} vCPU (broker pinned to core 0, bench to core 1)\n"
        f"python {platform.python_version()}, confluent-kafka {version('confluent-kafka')}, "
        f"librdkafka {confluent_kafka.libversion()[0]}, fastavro {version('fastavro')}, "
        f"Apache Kafka {kafka} (one KRaft node, 1 GB heap)\n"
        f"input: {args.records:,} records of {SCHEMA} (mean {mean_size:,.0f} B, "
        "single-object encoding, "
        f"no registry), {args.partitions} partitions, 8 headers, 5,000 Zipf keys; "
        f"{args.repetitions} repetitions after a warm-up round"
    )


if __name__ == "__main__":
    main()
