"""The whole system under faults: a broker of its own, every service a supervised process, the
demo driver as the load generator, and the oracle's ledgers read from the real parts.

The load is order-to-cash: one D365 sales order every ``interval_s``. For each order the ledgers
are what the parts themselves recorded:

- acknowledged: the Dataverse sandbox's webhook deliveries of the order's Create that the
  ingress answered 2xx (event id = the D365 order id, one event per order, seq 1);
- applied: the S/4 sales orders, matched to their D365 order by ``PurchaseOrderByCustomer``
  (a second S/4 order for one D365 order is a duplicate side effect);
- dead letters: every record of the DLQ topics (the key is the D365 order id);
- audit: the ingress's ``SUCCEEDED`` audit lines of ``d365.salesorder.events`` Creates.

Services are restarted when they exit, as Kubernetes would, so a scenario sees what production
sees: a process that could not recover by itself exits and comes back.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka.admin import AdminClient
from confluent_kafka.serialization import MessageField, SerializationContext
from rich.console import Console

from isthmus.devenv.broker import LocalKafka
from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.demo_systems import ORDERS_SRV
from isthmus.devenv.environment import local_kafka
from isthmus.devenv.subscriptions import wire_sandboxes
from isthmus.devenv.supervisor import ChildSpec, Supervisor
from isthmus.devenv.system import SystemConfig, service_specs
from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.testing.kafka import Broker, drain
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4
from isthmus.testing.system import demo_driver, system_config, unwire_sandboxes

from .ledger import Acked, Applied, DeadLetter, LagSample

DLQ_TOPICS = ("ingress.dlq", "transformer.dlq", "sap-sink.dlq", "d365-sink.dlq")
ORDER_EVENTS = "d365.salesorder.events"

# Shorter than production so a wedged transaction ends within a scenario (still above the
# transaction timeout, as the settings require).
_FAST_RECOVERY = {
    "ISTHMUS_TRANSFORMER_PROCESSOR__TRANSACTION_TIMEOUT_MS": "10000",
    "ISTHMUS_TRANSFORMER_PROCESSOR__STALL_TIMEOUT_S": "30",
    "ISTHMUS_TRANSFORMER_PROCESSOR__CONSUMER_EXTRA": '{"partition.assignment.strategy": "range", '
    '"session.timeout.ms": "10000", "heartbeat.interval.ms": "2000"}',
}


@dataclass
class FaultSystem:
    """Everything a scenario acts on and reads back."""

    local: LocalKafka
    broker: Broker
    config: SystemConfig
    supervisor: Supervisor
    driver: DemoDriver
    d365: SandboxD365
    s4: SandboxS4
    _stop: threading.Event = field(default_factory=threading.Event)

    # -- faults ---------------------------------------------------------------------------

    def broker_pid(self) -> int:
        pid = self.local.pid()
        assert pid is not None, "the broker is not running"
        return pid

    def signal_broker(self, signum: signal.Signals) -> None:
        os.kill(self.broker_pid(), signum)

    def broker_down(self) -> None:
        self.local.down()

    def broker_up(self) -> None:
        self.local.up()

    def kill_service(self, name: str) -> None:
        """SIGKILL one service; the supervisor starts it again."""
        pid = self.supervisor.pid(name)
        assert pid is not None, f"{name} is not running"
        os.killpg(pid, signal.SIGKILL)

    # -- ledgers --------------------------------------------------------------------------

    def acked(self, order_ids: set[str]) -> list[Acked]:
        """Orders whose Create webhook the ingress answered 2xx."""
        acked = {
            d["row_id"]
            for d in self.d365.admin.deliveries()
            if d["entity"] == "salesorder" and d["message"] == "Create" and d["succeeded"]
        }
        return [Acked(event_id=o, key=o, seq=1) for o in sorted(order_ids & acked)]

    def refused(self, order_ids: set[str]) -> set[str]:
        """Orders whose Create webhook failed (Dataverse gave up after its one retry)."""
        failed = {
            d["row_id"]
            for d in self.d365.admin.deliveries(failed=True)
            if d["entity"] == "salesorder" and d["message"] == "Create"
        }
        return order_ids & failed

    def applied(self, numbers: dict[str, str]) -> list[Applied]:
        """S/4 orders of the given D365 orders (order number → order id)."""
        rows = self.driver.s4.query(
            f"{ORDERS_SRV}/A_SalesOrder", select="SalesOrder,PurchaseOrderByCustomer"
        )
        applied = []
        for row in rows:
            order_id = numbers.get(row["PurchaseOrderByCustomer"])
            if order_id is not None:
                applied.append(
                    Applied(
                        event_id=order_id,
                        key=order_id,
                        seq=1,
                        effective=True,
                        request_id=row["SalesOrder"],
                        at=float(int(row["SalesOrder"])),
                    )
                )
        return applied

    def dead_letters(self) -> list[DeadLetter]:
        letters = []
        for topic in DLQ_TOPICS:
            for message in drain(self.broker, topic, timeout_s=5):
                headers = dict(h.of(message))
                key = (message.key() or b"").decode("utf-8", "replace")
                letters.append(
                    DeadLetter(event_id=key, topic=topic, headers=headers, value=message.value())
                )
        return letters

    def audited(self, order_ids: set[str]) -> set[str]:
        serde = SerdeFactory(settings=SchemaSettings(schemas_dir=self.config.root / "schemas"))
        decode = serde.deserializer(value_schema=AUDIT_SCHEMA)
        context = SerializationContext(AUDIT_TOPIC, MessageField.VALUE)
        seen = set()
        for message in drain(self.broker, AUDIT_TOPIC, timeout_s=5):
            event: Any = decode(message.value(), context)
            if (
                event
                and event["service"] == "ingress"
                and event["outcome"] == "SUCCEEDED"
                and event["sourceTopic"] == ORDER_EVENTS
                and event["what"].startswith("Create ")
                and event["businessKey"] in order_ids
            ):
                seen.add(event["businessKey"])
        return seen

    def outstanding(self, order_ids: set[str], numbers: dict[str, str]) -> LagSample:
        """Acknowledged orders not yet in S/4: the pipeline's lag, end to end."""
        acked = {a.event_id for a in self.acked(order_ids)}
        applied = {a.event_id for a in self.applied(numbers)}
        return LagSample(at=time.monotonic(), lag=len(acked - applied))

    def rss_mib(self) -> dict[str, float]:
        """Resident memory of each running service, from ``/proc/<pid>/status``."""
        sizes = {}
        for name in ("ingress", "transformer", "sap-sink", "d365-sink"):
            pid = self.supervisor.pid(name)
            if pid is None:
                continue
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            kib = next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS")
            )
            sizes[name] = kib / 1024
        return sizes

    # -- supervision ----------------------------------------------------------------------

    def restarts(self) -> Iterator[tuple[str, int, float]]:
        while not self._stop.wait(1.0):
            yield from self.supervisor.restart_exited()

    def stop(self) -> None:
        self._stop.set()


@contextmanager
def running_system(
    *,
    repo_root: Path,
    d365: SandboxD365,
    s4: SandboxS4,
    log_dir: Path,
    on_restart: Callable[[str, int], None],
) -> Iterator[FaultSystem]:
    """Own broker, catalogue topics, the four services supervised, the sandboxes wired."""
    local = local_kafka(root=repo_root, name=f"faults-{uuid.uuid4().hex[:8]}")
    supervisor = Supervisor(log_dir=log_dir, console=Console(file=io.StringIO(), width=200))
    driver: DemoDriver | None = None
    system: FaultSystem | None = None
    watcher: threading.Thread | None = None
    try:
        state = local.up()
        broker = Broker(bootstrap_servers=state.bootstrap_servers)
        TopicProvisioner(admin=AdminClient({"bootstrap.servers": state.bootstrap_servers})).apply(
            load_catalogue(repo_root / "deploy" / "topics.yaml"), replication_factor=1
        )
        unwire_sandboxes(d365)
        config = system_config(
            root=repo_root, bootstrap_servers=state.bootstrap_servers, d365=d365, s4=s4
        )
        for spec in service_specs(config=config):
            supervisor.start(_with_fast_recovery(spec))
        wire_sandboxes(
            d365_url=config.d365_url,
            s4_url=config.s4_url,
            ingress_url=config.ingress_url,
            ca_file=config.ca_file,
        )
        driver = demo_driver(config)
        system = FaultSystem(
            local=local,
            broker=broker,
            config=config,
            supervisor=supervisor,
            driver=driver,
            d365=d365,
            s4=s4,
        )

        def watch(faults: FaultSystem = system) -> None:
            for name, code, _delay in faults.restarts():
                on_restart(name, code)

        watcher = threading.Thread(target=watch, name="fault-supervisor", daemon=True)
        watcher.start()
        driver.set_up()
        deadline = time.monotonic() + 120
        while not driver.customers_ready():
            assert time.monotonic() < deadline, "demo customers not in S/4 within 120 s"
            driver.poll()
            time.sleep(1)
        yield system
    finally:
        if system is not None:
            system.stop()
        if watcher is not None:
            watcher.join(timeout=5)
        supervisor.stop_all()
        if driver is not None:
            driver.close()
        pid = local.pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        local.down()
        shutil.rmtree(local.data_dir, ignore_errors=True)


def _with_fast_recovery(spec: ChildSpec) -> ChildSpec:
    if spec.name != "transformer":
        return spec
    return ChildSpec(
        name=spec.name,
        argv=spec.argv,
        ready_url=spec.ready_url,
        ca_file=spec.ca_file,
        env={**spec.env, **_FAST_RECOVERY},
        ready_timeout_s=spec.ready_timeout_s,
    )
