"""The whole system under faults: a broker of its own, every service a supervised process, the
demo driver as the load generator, and the oracle's ledgers read from the real parts.

Records are written in Confluent framing against a schema registry of the suite's own
(Apicurio, in memory, the catalogue registered at start), reached through a second fault proxy.

The load is order-to-cash: one D365 sales order every ``interval_s``. For each order the ledgers
are what the parts themselves recorded:

- acknowledged: the Dataverse sandbox's webhook deliveries of the order's Create that the
  ingress answered 2xx (event id = the D365 order id, one event per order, seq 1);
- applied: the S/4 sales orders, matched to their D365 order by ``PurchaseOrderByCustomer``
  (a second S/4 order for one D365 order is a duplicate side effect);
- dead letters: every record of the DLQ topics (the key is the D365 order id, or the key of a
  poison record the scenario injected);
- audit: the ingress's ``SUCCEEDED`` audit lines of ``d365.salesorder.events`` Creates.

The write-back leg (S/4 order number back to the D365 order, through the d365-sink) is a
second event per order, ``<order id>/write-back``: acknowledged once the S/4 order exists (its
events leave through an Event Mesh queue that redelivers until the ingress takes them), applied
when the D365 order carries that S/4 number, audited by the ingress's ``SUCCEEDED`` lines of
``s4.salesorder.events`` for that S/4 order.

A third, per-key stream changes the demo customers' phone numbers (``phones.py``).

Services are restarted when they exit, as Kubernetes would, so a scenario sees what production
sees: a process that could not recover by itself exits and comes back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
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

import fastavro
import httpx
from confluent_kafka import ConsumerGroupTopicPartitions, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.serialization import MessageField, SerializationContext
from rich.console import Console

from isthmus.devenv.broker import BrokerState, LocalKafka
from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.demo_systems import ORDERS_SRV
from isthmus.devenv.environment import local_kafka
from isthmus.devenv.registry import CCOMPAT_PATH, local_registry
from isthmus.devenv.registry_cli import register_schemas
from isthmus.devenv.subscriptions import wire_sandboxes
from isthmus.devenv.supervisor import ChildSpec, Supervisor
from isthmus.devenv.system import SystemConfig, service_specs
from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.kafka.scan import scan_topic
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.schemas.wire import confluent_header
from isthmus.testing.kafka import Broker
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4
from isthmus.testing.system import demo_driver, system_config, unwire_sandboxes

from .ledger import Acked, Applied, DeadLetter, Injected, LagSample
from .phones import ACCOUNT_EVENTS, PhoneStream
from .proxy import FaultProxy

DLQ_TOPICS = ("ingress.dlq", "transformer.dlq", "sap-sink.dlq", "d365-sink.dlq")
ORDER_EVENTS = "d365.salesorder.events"
READ_ALL_S = 300.0
"""Upper bound of one read of a whole topic to the end it had when the read began (a run of the
full matrix leaves tens of thousands of audit records to read)."""
S4_ORDER_EVENTS = "s4.salesorder.events"
WRITE_BACK = "/write-back"
PUBLISH_KEY = "fault-matrix-publish-key"
"""API key of the publish API in this suite (its roles open both topic families)."""
PUBLISH_ROLES = ("Events.Publish.Dataverse", "Events.Publish.S4")

# Shorter than production so a wedged transaction ends within a scenario (still above the
# transaction timeout, as the settings require).
_FAST_RECOVERY = {
    "ISTHMUS_TRANSFORMER_PROCESSOR__TRANSACTION_TIMEOUT_MS": "10000",
    "ISTHMUS_TRANSFORMER_PROCESSOR__STALL_TIMEOUT_S": "30",
    # A registry that hangs costs its timeout times its attempts before its circuit opens: 15 s.
    "ISTHMUS_TRANSFORMER_SCHEMAS__REGISTRY_TIMEOUT_S": "5",
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
    proxy: FaultProxy
    """Between the broker and the services that reach it through the proxied listener."""
    registry_proxy: FaultProxy
    """Between the schema registry and everything that uses it."""
    registry_direct_url: str
    """The registry's Confluent-compatible API without the proxy (for the harness itself)."""
    phones: PhoneStream
    """The load's per-key stream (phone numbers of the demo customers)."""
    injected: list[Injected] = field(default_factory=list)
    """Poison records the running scenario produced on purpose (its dead letters to be)."""
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
        os.killpg(self._pid(name), signal.SIGKILL)

    def signal_service(self, name: str, signum: signal.Signals) -> None:
        os.killpg(self._pid(name), signum)

    def _pid(self, name: str) -> int:
        pid = self.supervisor.pid(name)
        assert pid is not None, f"{name} is not running"
        return pid

    def start_service(
        self, name: str, *, of: str | None = None, env: dict[str, str] | None = None
    ) -> None:
        """Start service ``name`` with its usual spec and ``env`` on top; with ``of``, another
        instance of that service (same group, not waited for: its ports are its own)."""
        spec = next(s for s in service_specs(config=self.config) if s.name == (of or name))
        usual = _fault_env(spec, proxied=self.proxy.port)
        self.supervisor.start(
            dataclasses.replace(
                usual,
                name=name,
                ready_url=None if of else usual.ready_url,
                env={**usual.env, **(env or {})},
            )
        )

    def stop_service(self, name: str) -> None:
        """Stop a service for good (SIGTERM): the supervisor does not start it again."""
        self.supervisor.stop(name)

    def restart_service(self, name: str, *, env: dict[str, str] | None = None) -> None:
        """Stop a service and start it again (``env`` on top of its usual spec), until ready."""
        self.stop_service(name)
        self.start_service(name, env=env)

    def produce(self, topic: str, key: str, value: bytes) -> None:
        """Write one record as it is (a poison record, a replayed one) and wait for its ack."""
        producer = Producer(
            {**self.broker.settings.client_config(), "enable.idempotence": True, "acks": "all"}
        )
        producer.produce(topic, key=key.encode(), value=value)
        assert producer.flush(30) == 0, f"record to {topic} not acknowledged"

    def produce_under_new_schema_id(self, topic: str, *, field: str = "replayedUnder") -> str:
        """Write the latest record of one of the driver's orders on ``topic`` again, under a new
        version of its subject (one optional field more) registered directly at the registry;
        returns the record's key. Consumers have not cached that id: they must fetch it."""
        subject = f"{topic}-value"
        latest = (
            httpx.get(f"{self.registry_direct_url}/subjects/{subject}/versions/latest", timeout=30)
            .raise_for_status()
            .json()
        )
        schema = json.loads(latest["schema"])
        schema["fields"].append({"name": field, "type": ["null", "string"], "default": None})
        registered = (
            httpx.post(
                f"{self.registry_direct_url}/subjects/{subject}/versions",
                json={"schema": json.dumps(schema)},
                timeout=30,
            )
            .raise_for_status()
            .json()
        )
        message = self._latest_of_ours(topic)
        settings = SchemaSettings(
            schemas_dir=self.config.root / "schemas", registry_url=self.registry_direct_url
        )
        with SerdeFactory(settings=settings) as serde:
            decode = serde.deserializer(value_schema=None)
            value: Any = decode(message.value(), SerializationContext(topic, MessageField.VALUE))
        out = io.BytesIO()
        fastavro.schemaless_writer(out, fastavro.parse_schema(schema), {**value, field: "faults"})
        key = (message.key() or b"").decode()
        self.produce(topic, key, confluent_header(int(registered["id"])) + out.getvalue())
        return key

    def _latest_of_ours(self, topic: str) -> Message:
        """The newest record on ``topic`` whose key is one of the driver's orders."""
        ours = set(self.driver.journeys)
        found = [
            m for m in self._read_all(topic) if (m.key() or b"").decode("utf-8", "replace") in ours
        ]
        assert found, f"no record of the driver's orders on {topic}"
        return found[-1]

    def rewind_group(self, group: str, topic: str, *, by: int) -> None:
        """Move ``group``'s committed offsets on ``topic`` back by ``by`` records per partition
        (the group must have no member)."""
        admin = self.broker.admin()
        committed = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])[
            group
        ].result(timeout=30)
        rewound = [
            TopicPartition(tp.topic, tp.partition, max(0, tp.offset - by))
            for tp in committed.topic_partitions
            if tp.topic == topic and tp.offset >= 0
        ]
        admin.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, rewound)])[
            group
        ].result(timeout=30)

    def publish(self, topic: str, key: str, body: bytes) -> httpx.Response:
        """``POST /v1/events/{topic}?key=`` on the ingress with the suite's API key."""
        return httpx.post(
            f"{self.config.ingress_url}/v1/events/{topic}",
            params={"key": key},
            content=body,
            headers={"X-API-Key": PUBLISH_KEY, "Content-Type": "application/json"},
            timeout=60,
        )

    # -- ledgers --------------------------------------------------------------------------

    def _create_deliveries(self) -> tuple[set[str], set[str]]:
        """Orders whose Create webhook Dataverse recorded as answered 2xx, and as failed (it
        gave up after its one retry). An order in neither is still being delivered."""
        succeeded: set[str] = set()
        failed: set[str] = set()
        for d in self.d365.admin.deliveries():
            if d["entity"] == "salesorder" and d["message"] == "Create":
                (succeeded if d["succeeded"] else failed).add(d["row_id"])
        return succeeded, failed

    def acked(self, order_ids: set[str]) -> list[Acked]:
        """Orders whose Create webhook the ingress answered 2xx."""
        succeeded, _ = self._create_deliveries()
        return [Acked(event_id=o, key=o, seq=1) for o in sorted(order_ids & succeeded)]

    def refused(self, order_ids: set[str]) -> set[str]:
        """Orders whose Create webhook failed (Dataverse gave up after its one retry)."""
        _, failed = self._create_deliveries()
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

    def write_backs(self, s4_orders: list[Applied]) -> tuple[list[Acked], list[Applied]]:
        """The write-back leg: one event per D365 order that reached S/4 (its first S/4 order),
        applied when the D365 order carries that S/4 number."""
        first: dict[str, str] = {}
        for row in sorted(s4_orders, key=lambda applied: applied.at):
            first.setdefault(row.event_id, row.request_id)
        rows = self.driver.d365.rows("salesorders", select="salesorderid,isthmus_s4salesorder")
        written = {r["salesorderid"]: r.get("isthmus_s4salesorder") or "" for r in rows}
        acked = [Acked(event_id=o + WRITE_BACK, key=o + WRITE_BACK, seq=1) for o in sorted(first)]
        applied = [
            Applied(
                event_id=o + WRITE_BACK,
                key=o + WRITE_BACK,
                seq=1,
                effective=True,
                request_id=number,
                at=0.0,
            )
            for o, number in first.items()
            if written.get(o, "").lstrip("0") == number.lstrip("0")
        ]
        return acked, applied

    def dead_letters(self) -> list[DeadLetter]:
        letters = []
        for topic in DLQ_TOPICS:
            for message in self._read_all(topic):
                headers = dict(h.of(message))
                key = (message.key() or b"").decode("utf-8", "replace")
                letters.append(
                    DeadLetter(event_id=key, topic=topic, headers=headers, value=message.value())
                )
        return letters

    def audited(
        self,
        order_ids: set[str],
        s4_orders: dict[str, str],
        phone_changes: dict[str, str] | None = None,
    ) -> set[str]:
        """Events of both legs and of the phone stream the ingress audited as taken
        (``s4_orders``: S/4 number without leading zeros → D365 order id; ``phone_changes``:
        correlation id of a delivered phone change → its event id)."""
        settings = SchemaSettings(
            schemas_dir=self.config.root / "schemas", registry_url=self.config.registry_url
        )
        with SerdeFactory(settings=settings) as serde:
            decode = serde.deserializer(value_schema=AUDIT_SCHEMA)
            records = self._read_all(AUDIT_TOPIC)
            context = SerializationContext(AUDIT_TOPIC, MessageField.VALUE)
            events: list[Any] = [decode(m.value(), context) for m in records]
        seen = set()
        for event in events:
            if not event or event["service"] != "ingress" or event["outcome"] != "SUCCEEDED":
                continue
            key = event["businessKey"]
            if (
                event["sourceTopic"] == ORDER_EVENTS
                and event["what"].startswith("Create ")
                and key in order_ids
            ):
                seen.add(key)
            elif event["sourceTopic"] == S4_ORDER_EVENTS and key.lstrip("0") in s4_orders:
                seen.add(s4_orders[key.lstrip("0")] + WRITE_BACK)
            elif (
                event["sourceTopic"] == ACCOUNT_EVENTS
                and event["what"].startswith("Update ")
                and event["correlationId"] in (phone_changes or {})
            ):
                seen.add((phone_changes or {})[event["correlationId"]])
        return seen

    def outstanding(
        self,
        order_ids: set[str],
        numbers: dict[str, str],
        dead: frozenset[str] | set[str] = frozenset(),
        phones_since: dict[str, int] | None = None,
    ) -> LagSample:
        """Acknowledged events of both legs (and of the phone stream after ``phones_since``)
        neither applied nor expected in a DLQ (``dead``), and changes whose webhook is still
        in flight: the pipeline's lag, end to end."""
        s4_orders = self.applied(numbers)
        wb_acked, wb_applied = self.write_backs(s4_orders)
        succeeded, failed = self._create_deliveries()
        acked = {a.event_id for a in wb_acked} | (order_ids & succeeded)
        applied = {a.event_id for a in [*s4_orders, *wb_applied]}
        in_flight = len(order_ids - succeeded - failed)  # the ingress has not answered yet
        if phones_since is not None:
            phones = self.phones.ledgers(phones_since)
            acked |= {a.event_id for a in phones.acked}
            applied |= {a.event_id for a in phones.applied if a.effective} | phones.superseded
            in_flight += phones.in_flight
        return LagSample(at=time.monotonic(), lag=len(acked - applied - dead) + in_flight)

    def _read_all(self, topic: str) -> list[Message]:
        """Every committed record of ``topic`` up to its end when the read began."""
        return list(scan_topic(kafka=self.broker.settings, topic=topic, timeout_s=READ_ALL_S))

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
    """Own registry and broker behind their proxies, catalogue topics, the four services
    supervised, the sandboxes wired, the demo customers in S/4."""
    with contextlib.ExitStack() as stack:
        registry_url, registry_direct, registry_proxy = stack.enter_context(_registry(repo_root))
        local, state, proxy = stack.enter_context(_broker(repo_root))
        unwire_sandboxes(d365)
        config = dataclasses.replace(
            system_config(
                root=repo_root, bootstrap_servers=state.bootstrap_servers, d365=d365, s4=s4
            ),
            registry_url=registry_url,
        )
        supervisor = Supervisor(log_dir=log_dir, console=Console(file=io.StringIO(), width=200))
        stack.callback(supervisor.stop_all)
        for spec in service_specs(config=config):
            supervisor.start(_fault_env(spec, proxied=proxy.port))
        wire_sandboxes(
            d365_url=config.d365_url,
            s4_url=config.s4_url,
            ingress_url=config.ingress_url,
            ca_file=config.ca_file,
        )
        driver = demo_driver(config)
        stack.callback(driver.close)
        system = FaultSystem(
            local=local,
            broker=Broker(bootstrap_servers=state.bootstrap_servers),
            config=config,
            supervisor=supervisor,
            driver=driver,
            d365=d365,
            s4=s4,
            proxy=proxy,
            registry_proxy=registry_proxy,
            registry_direct_url=registry_direct,
            phones=PhoneStream(d365=d365, s4=s4, driver=driver),
        )

        def watch() -> None:
            for name, code, _delay in system.restarts():
                on_restart(name, code)

        watcher = threading.Thread(target=watch, name="fault-supervisor", daemon=True)
        watcher.start()
        stack.callback(watcher.join, timeout=5)
        stack.callback(system.stop)
        driver.set_up()
        deadline = time.monotonic() + 120
        while not driver.customers_ready():
            assert time.monotonic() < deadline, "demo customers not in S/4 within 120 s"
            driver.poll()
            time.sleep(1)
        yield system


@contextmanager
def _registry(repo_root: Path) -> Iterator[tuple[str, str, FaultProxy]]:
    """An in-memory Apicurio of the suite's own with the catalogue registered, and the proxy
    in front of it; yields the Confluent-compatible URL through the proxy and without it."""
    registry = local_registry(root=repo_root, name=f"faults-registry-{uuid.uuid4().hex[:8]}")
    try:
        state = registry.up()
        register_schemas(root=repo_root, url=state.url)
        with FaultProxy("127.0.0.1", state.port) as proxy:
            yield f"http://127.0.0.1:{proxy.port}{CCOMPAT_PATH}", state.url, proxy
    finally:
        registry.down()
        shutil.rmtree(registry.data_dir, ignore_errors=True)


@contextmanager
def _broker(repo_root: Path) -> Iterator[tuple[LocalKafka, BrokerState, FaultProxy]]:
    """A broker of the suite's own with the catalogue's topics, and the proxy in front of its
    proxied listener."""
    local = local_kafka(
        root=repo_root, name=f"faults-{uuid.uuid4().hex[:8]}", proxied_listener=True
    )
    try:
        state = local.up()
        assert state.proxied_port and state.proxy_port
        TopicProvisioner(admin=AdminClient({"bootstrap.servers": state.bootstrap_servers})).apply(
            load_catalogue(repo_root / "deploy" / "topics.yaml"), replication_factor=1
        )
        with FaultProxy("127.0.0.1", state.proxied_port, listen_port=state.proxy_port) as proxy:
            yield local, state, proxy
    finally:
        if (pid := local.pid()) is not None:
            os.kill(pid, signal.SIGCONT)  # a scenario may have left it stopped
        local.down()
        shutil.rmtree(local.data_dir, ignore_errors=True)


PROXIED = ("ingress", "transformer")
"""The services that reach the broker through the fault proxy."""


def _fault_env(spec: ChildSpec, *, proxied: int) -> ChildSpec:
    """The suite's additions: fast recovery for the transformer, a publish API key, the
    proxied services' bootstrap address (``proxied``: the proxy's port)."""
    extra: dict[str, str] = {
        "transformer": _FAST_RECOVERY,
        "ingress": {
            "ISTHMUS_INGRESS_PUBLISH__API_KEYS": json.dumps(
                {"fault-matrix": {"secret": PUBLISH_KEY, "roles": PUBLISH_ROLES}}
            )
        },
    }.get(spec.name, {})
    if spec.name in PROXIED:
        prefix = f"ISTHMUS_{spec.name.upper().replace('-', '_')}_"
        extra = {**extra, f"{prefix}KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{proxied}"}
    return dataclasses.replace(spec, env={**spec.env, **extra})
