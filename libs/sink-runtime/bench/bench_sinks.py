"""Sink benchmark: commands/s per replica against the sandboxes with 20 ms latency per call.

Runs, in one go and on one broker of its own: sap-sink and d365-sink with one request per command
(``mode=single``) and batched + concurrent (``mode=batched``), then sap-sink and d365-sink with
two replicas against one. Throughput runs from publishing the first command (replicas already
running and assigned) to the last result's producer timestamp, so start-up is not counted.
Each run also prints the CPU seconds of the sinks, the target sandbox, the broker and this process
and the load average, so a sink's limit can be told from the target's or the machine's.
Run: ``make bench-sinks``.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.devenv.environment import local_kafka
from isthmus.devenv.localrun import sandbox_argv
from isthmus.devenv.paths import find_root
from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.devenv.tls import ensure_local_tls
from isthmus.schemas.factory import SerdeFactory
from isthmus.schemas.settings import SchemaSettings
from isthmus.testing.kafka import Broker, create_topics, drain
from isthmus.testing.sandbox_d365 import CLIENT_ID, CLIENT_SECRET, ORG_URL, TENANT_ID, SandboxAdmin
from isthmus.testing.sandbox_s4 import COMM_PASSWORD, COMM_USER, SandboxS4Admin

LATENCY_MS = 20
ORDERS = 600
ACCOUNTS = 4000  # long enough that start-up and the last poll do not dominate 2 replicas
SINGLE = {"sap-sink": ORDERS // 5, "d365-sink": 300}
SETTLE_S = 8.0
REPETITIONS = 3
ROOT = find_root(Path(__file__))


@dataclass(frozen=True)
class Run:
    """One measured run: which sink, mode, replicas, and the commands/s it reached."""

    sink: str
    mode: str
    replicas: int
    commands: int
    per_second: float
    wall_s: float
    sink_cpu_s: float
    target_cpu_s: float
    broker_cpu_s: float
    bench_cpu_s: float
    """This process: publishing the commands and reading the results back."""
    load: float
    """One-minute load average at the end of the run (other work on the machine included)."""

    @property
    def busy_cores(self) -> float:
        """CPU of sinks, target, broker and bench per second of wall time (2 cores here)."""
        cpu = self.sink_cpu_s + self.target_cpu_s + self.broker_cpu_s + self.bench_cpu_s
        return cpu / self.wall_s


def _header(key: str) -> dict[str, Any]:
    return {
        "commandId": str(uuid.uuid4()),
        "issuedAt": datetime.now(UTC),
        "flow": "bench",
        "idempotency": {
            "sourceSystem": "D365",
            "sourceId": key,
            "externalReference": key,
            "sourceVersion": None,
        },
        "causationId": None,
        "correlationId": None,
    }


def order(key: str) -> dict[str, Any]:
    """A sales order for customer 10100001 with one item."""
    item = {
        "SalesOrderItem": "10",
        "Material": "TG11",
        "RequestedQuantity": Decimal("1.000"),
        "RequestedQuantityUnit": "PC",
        "SalesOrderItemText": None,
        "MaterialByCustomer": None,
        "ProductionPlant": None,
        "RequestedDeliveryDate": None,
    }
    return {
        "header": _header(key),
        "action": "CREATE",
        "SalesOrder": None,
        "SalesOrderType": "OR",
        "SalesOrganization": "1010",
        "DistributionChannel": "10",
        "OrganizationDivision": "00",
        "SoldToParty": "10100001",
        "PurchaseOrderByCustomer": key,
        "CustomerPurchaseOrderDate": None,
        "RequestedDeliveryDate": None,
        "TransactionCurrency": "EUR",
        "CustomerPaymentTerms": None,
        "ShippingCondition": None,
        "to_Partner": [],
        "to_Item": [item],
    }


def account(key: str) -> dict[str, Any]:
    """An account upsert keyed by a business partner number."""
    empty = dict.fromkeys(
        (
            "accountid",
            "accountnumber",
            "address1_line1",
            "address1_line2",
            "address1_city",
            "address1_stateorprovince",
            "address1_postalcode",
            "address1_country",
            "emailaddress1",
            "telephone1",
            "isocurrencycode",
        )
    )
    return {
        "header": _header(key),
        "action": "UPSERT",
        "isthmus_s4businesspartner": key,
        "name": f"Bench {key}",
        **empty,
    }


@dataclass
class Bench:
    """Broker, sandboxes and codecs shared by every run."""

    broker: Broker
    folder: Path
    factory: SerdeFactory
    env: dict[str, dict[str, str]]
    resets: dict[str, Callable[[], None]]
    target_pids: dict[str, int]
    broker_pid: int

    def measure(self, *, sink: str, mode: str, replicas: int, count: int) -> Run:
        """Publish ``count`` commands, run ``replicas`` sinks, return commands/s."""
        system, entity, schema, build = _SINKS[sink]
        self.resets[sink]()  # every run starts from the seed (the S/4 look-ups scan all orders)
        prefix, group = f"b-{uuid.uuid4().hex[:6]}.", f"b-{sink}-{uuid.uuid4().hex[:6]}"
        commands, results = (
            f"{prefix}{system}.{entity}.commands",
            f"{prefix}{system}.{entity}.results",
        )
        create_topics(
            self.broker,
            commands,
            results,
            f"{prefix}state.{system}.{entity}",
            f"{prefix}audit.events",
            f"{group}.dlq",
            f"{group}.retry.1s",
            partitions=6,
        )
        create_topics(
            self.broker,
            f"{prefix}xref.ids",
            f"{group}.parked",
            partitions=1,
            **{"cleanup.policy": "compact"},
        )
        env = self._env(sink, prefix=prefix, group=group, mode=mode, entity=entity)
        sink_pids: list[int] = []
        with ExitStack() as stack:
            for index in range(replicas):
                sink_pids.append(stack.enter_context(self._replica(sink, env, f"{group}-{index}")))
            time.sleep(SETTLE_S)  # the group settles on its members before commands arrive
            values = [build(f"{prefix}{i}") for i in range(count)]
            sink_before = sum(cpu_seconds(pid) for pid in sink_pids)
            target_before = cpu_seconds(self.target_pids[sink])
            broker_before = cpu_seconds(self.broker_pid)
            bench_before = time.process_time()
            started_ms = time.time() * 1000
            self._produce(commands, schema, values)
            records = drain(self.broker, results, expected=count, timeout_s=600)
            sink_cpu = sum(cpu_seconds(pid) for pid in sink_pids) - sink_before
            target_cpu = cpu_seconds(self.target_pids[sink]) - target_before
            broker_cpu = cpu_seconds(self.broker_pid) - broker_before
            bench_cpu = time.process_time() - bench_before
        # results are produced per wave, so time runs from the first command to the last result
        seconds = max((max(m.timestamp()[1] for m in records) - started_ms) / 1000, 0.001)
        return Run(
            sink,
            mode,
            replicas,
            len(records),
            len(records) / seconds,
            seconds,
            sink_cpu,
            target_cpu,
            broker_cpu,
            bench_cpu,
            os.getloadavg()[0],
        )

    def _produce(self, topic: str, schema: str, values: list[dict[str, Any]]) -> None:
        serializer = self.factory.serializer(value_schema=schema)
        producer = Producer({**self.broker.settings.client_config(), "linger.ms": 20})
        ctx = SerializationContext(topic, MessageField.VALUE)
        for value in values:
            producer.produce(
                topic, serializer(value, ctx), value["header"]["idempotency"]["sourceId"].encode()
            )
        producer.flush(60)

    def _env(self, sink: str, *, prefix: str, group: str, mode: str, entity: str) -> dict[str, str]:
        p = "ISTHMUS_SAP_SINK_" if sink == "sap-sink" else "ISTHMUS_D365_SINK_"
        return {
            **self.env[sink],
            f"{p}KAFKA__BOOTSTRAP_SERVERS": self.broker.bootstrap_servers,
            f"{p}PROCESSOR__GROUP_ID": group,
            f"{p}PROCESSOR__RETRY_DELAYS_MS": "[1000]",
            f"{p}SINK__TOPIC_PREFIX": prefix,
            f"{p}SINK__ENTITIES": json.dumps([entity]),
            f"{p}SINK__MODE": mode,
            f"{p}SCHEMAS__SCHEMAS_DIR": str(ROOT / "schemas"),
            f"{p}LOG_LEVEL": "WARNING",
        }

    @contextmanager
    def _replica(self, sink: str, env: dict[str, str], name: str) -> Iterator[int]:
        p = "ISTHMUS_SAP_SINK_" if sink == "sap-sink" else "ISTHMUS_D365_SINK_"
        port = free_port()
        module = "isthmus.sap_sink" if sink == "sap-sink" else "isthmus.d365_sink"
        process = ManagedProcess(
            name=name,
            argv=[sys.executable, "-m", module],
            log_file=self.folder / f"{name}.log",
            env={**env, f"{p}SINK__HEALTH_PORT": str(port)},
        )
        process.start()
        try:
            process.wait_http_ready(f"http://127.0.0.1:{port}/readyz")
            assert process.pid is not None  # noqa: S101 - started above
            yield process.pid
        finally:
            process.stop()


_SINKS: dict[str, tuple[str, str, str, Callable[[str], dict[str, Any]]]] = {
    "sap-sink": ("s4", "salesorder", "io.isthmus.s4.SalesOrderCommand", order),
    "d365-sink": ("d365", "account", "io.isthmus.d365.AccountUpsertCommand", account),
}


@contextmanager
def sandbox(module: str, folder: Path, tls_dir: Path, health: str) -> Iterator[tuple[str, int]]:
    """A sandbox process over HTTPS on a free port; yields its base URL and pid."""
    port = free_port()
    process = ManagedProcess(
        name=module,
        log_file=folder / f"{module}.log",
        argv=sandbox_argv(module, port=port, db=folder / f"{module}.db", tls_dir=tls_dir),
    )
    process.start()
    try:
        base = f"https://127.0.0.1:{port}"
        process.wait_http_ready(f"{base}{health}", ca_file=tls_dir / "ca.pem")
        assert process.pid is not None  # noqa: S101 - started above
        yield base, process.pid
    finally:
        process.stop()


def sink_env(s4: str, d365: str, ca: Path) -> dict[str, dict[str, str]]:
    """The target settings of both sinks."""
    return {
        "sap-sink": {
            "ISTHMUS_SAP_SINK_S4__BASE_URL": s4,
            "ISTHMUS_SAP_SINK_S4__USER": COMM_USER,
            "ISTHMUS_SAP_SINK_S4__PASSWORD": COMM_PASSWORD,
            "ISTHMUS_SAP_SINK_S4__CA_BUNDLE": str(ca),
        },
        "d365-sink": {
            "ISTHMUS_D365_SINK_D365__ENVIRONMENT_URL": d365,
            "ISTHMUS_D365_SINK_D365__SCOPE": f"{ORG_URL}/.default",
            "ISTHMUS_D365_SINK_D365__TENANT_ID": TENANT_ID,
            "ISTHMUS_D365_SINK_D365__CLIENT_ID": CLIENT_ID,
            "ISTHMUS_D365_SINK_D365__CLIENT_SECRET": CLIENT_SECRET,
            "ISTHMUS_D365_SINK_D365__AUTHORITY_HOST": d365,
            "ISTHMUS_D365_SINK_D365__CA_BUNDLE": str(ca),
        },
    }


def main() -> None:
    """Run every configuration once and print the table and the ratios."""
    folder = Path(tempfile.mkdtemp(prefix="bench-sinks-"))
    tls = ensure_local_tls(folder / "tls")
    kafka = local_kafka(root=ROOT, name=f"bench-sinks-{uuid.uuid4().hex[:6]}")
    try:
        state = kafka.up()
        with (
            sandbox("isthmus.sandbox_s4", folder, tls.ca_cert.parent, "/_sandbox/health") as (
                s4,
                s4_pid,
            ),
            sandbox("isthmus.sandbox_d365", folder, tls.ca_cert.parent, "/_sandbox/health") as (
                d365,
                d365_pid,
            ),
        ):
            s4_admin = SandboxS4Admin(base_url=s4, ca_file=tls.ca_cert)
            d365_admin = SandboxAdmin(base_url=d365, ca_file=tls.ca_cert)

            def reset_s4() -> None:
                s4_admin.reset(seed=True)
                s4_admin.add_fault(kind="latency", path="/sap/opu/odata/*", latency_ms=LATENCY_MS)

            def reset_d365() -> None:
                d365_admin.reset(seed=True)
                d365_admin.add_fault(kind="latency", path="/api/data/v9.2/*", latency_ms=LATENCY_MS)

            bench = Bench(
                broker=Broker(bootstrap_servers=state.bootstrap_servers),
                folder=folder,
                factory=SerdeFactory(settings=SchemaSettings(schemas_dir=ROOT / "schemas")),
                env=sink_env(s4, d365, tls.ca_cert),
                resets={"sap-sink": reset_s4, "d365-sink": reset_d365},
                target_pids={"sap-sink": s4_pid, "d365-sink": d365_pid},
                broker_pid=kafka.pid() or 0,
            )
            report(run_all(bench))
            d365_admin.close()
    finally:
        kafka.down()
        shutil.rmtree(kafka.data_dir, ignore_errors=True)


CONFIGS = (("single", 1), ("batched", 1), ("batched", 2))


def run_all(bench: Bench) -> list[Run]:
    """Single vs batched (one replica) and batched with two replicas, per sink, interleaved."""
    runs = []
    for _ in range(REPETITIONS):
        for sink, count in (("sap-sink", ORDERS), ("d365-sink", ACCOUNTS)):
            for mode, replicas in CONFIGS:
                n = count if mode == "batched" else SINGLE[sink]
                runs.append(bench.measure(sink=sink, mode=mode, replicas=replicas, count=n))
    return runs


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / float(os.sysconf("SC_CLK_TCK"))


def report(runs: list[Run]) -> None:
    """Print one line per run, then medians and the two ratios per sink."""
    print(f"latency {LATENCY_MS} ms per target call; commands/s from first command to last result")
    for r in runs:
        print(
            f"{r.sink:10} {r.mode:8} replicas={r.replicas} n={r.commands:5} "
            f"{r.per_second:8.1f}/s wall {r.wall_s:6.1f}s cpu sink {r.sink_cpu_s:6.1f}s "
            f"target {r.target_cpu_s:6.1f}s broker {r.broker_cpu_s:6.1f}s "
            f"bench {r.bench_cpu_s:4.1f}s "
            f"busy {r.busy_cores:4.2f} cores load {r.load:4.1f}"
        )
    for sink in ("sap-sink", "d365-sink"):
        rates = {
            config: sorted(
                r.per_second for r in runs if r.sink == sink and (r.mode, r.replicas) == config
            )
            for config in CONFIGS
        }
        single, one, two = (statistics.median(rates[c]) for c in CONFIGS)
        spread = ", ".join(f"{rates[c][0]:.1f}-{rates[c][-1]:.1f}" for c in CONFIGS)
        print(
            f"{sink}: medians single {single:.1f}/s, batched {one:.1f}/s, 2 replicas {two:.1f}/s "
            f"(min-max {spread}); batched+concurrent / one request per command = "
            f"{one / single:.1f}x; 2 replicas / 1 = {two / one:.2f}x"
        )


if __name__ == "__main__":
    main()
