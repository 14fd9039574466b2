"""Harness for the sink tests: topics per test, commands in Avro, sinks as real processes."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.schemas.factory import SerdeFactory
from isthmus.schemas.settings import SchemaSettings
from isthmus.testing.kafka import Broker, create_topics, drain
from isthmus.testing.sandbox_d365 import ORG_URL, SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4
from tests.sales_orders import order_line

RETRY_DELAYS_MS = (1000, 2000)


@dataclass
class SinkTopicsUnderTest:
    """The topics and group of one test (prefixed, so tests never share them)."""

    prefix: str
    group: str
    system: str
    entity: str

    @property
    def commands(self) -> str:
        return f"{self.prefix}{self.system}.{self.entity}.commands"

    @property
    def results(self) -> str:
        return f"{self.prefix}{self.system}.{self.entity}.results"

    @property
    def state(self) -> str:
        return f"{self.prefix}state.{self.system}.{self.entity}"

    @property
    def xref(self) -> str:
        return f"{self.prefix}xref.ids"

    @property
    def audit(self) -> str:
        return f"{self.prefix}audit.events"

    @property
    def dlq(self) -> str:
        return f"{self.group}.dlq"

    @property
    def retries(self) -> list[str]:
        return [f"{self.group}.retry.{d // 1000}s" for d in RETRY_DELAYS_MS]


@dataclass
class SinkHarness:
    """Provisioned topics, codecs and the sink processes of one test."""

    broker: Broker
    topics: SinkTopicsUnderTest
    factory: SerdeFactory
    repo_root: Path
    log_dir: Path
    env: dict[str, str]
    module: str
    processes: list[ManagedProcess] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)

    def start(self, *, name: str = "sink", extra: dict[str, str] | None = None) -> ManagedProcess:
        """Start one replica and wait for its readiness endpoint."""
        port = free_port()
        env = {
            **self.env,
            "ISTHMUS_" + self.prefix_env + "SINK__HEALTH_PORT": str(port),
            **(extra or {}),
        }
        process = ManagedProcess(
            name=name,
            argv=[sys.executable, "-m", self.module],
            log_file=self.log_dir / f"{name}-{len(self.processes)}.log",
            env=env,
        )
        process.start()
        self.processes.append(process)
        self.ports.append(port)
        process.wait_http_ready(f"http://127.0.0.1:{port}/readyz", timeout_s=60)
        return process

    @property
    def prefix_env(self) -> str:
        return "SAP_SINK_" if self.module == "isthmus.sap_sink" else "D365_SINK_"

    def produce(self, commands: list[tuple[str, dict[str, Any]]], *, schema: str) -> None:
        """Publish ``(key, command)`` pairs to the command topic."""
        serializer = self.factory.serializer(value_schema=schema)
        producer = Producer({**self.broker.settings.client_config(), "linger.ms": 5})
        ctx = SerializationContext(self.topics.commands, MessageField.VALUE)
        for key, value in commands:
            producer.produce(self.topics.commands, serializer(value, ctx), key.encode())
        producer.flush(30)

    def decode(
        self, topic: str, expected: int | None = None, timeout_s: float = 60
    ) -> list[tuple[str, Any]]:
        """Read a topic from the start and decode it."""
        deserializer = self.factory.deserializer(value_schema=None)
        out = []
        for message in drain(self.broker, topic, expected=expected, timeout_s=timeout_s):
            ctx = SerializationContext(topic, MessageField.VALUE)
            value = deserializer(message.value(), ctx) if message.value() else None
            out.append(((message.key() or b"").decode(), value))
        return out

    def stop_all(self) -> None:
        for process in self.processes:
            process.stop(timeout_s=20)


def create_entity_topics(harness: SinkHarness, system: str, entity: str) -> tuple[str, str, str]:
    """Create the command, result and state topics of one more entity of the harness's sink."""
    prefix = harness.topics.prefix
    topics = (
        f"{prefix}{system}.{entity}.commands",
        f"{prefix}{system}.{entity}.results",
        f"{prefix}state.{system}.{entity}",
    )
    create_topics(harness.broker, *topics, partitions=2)
    return topics


def wait_for(predicate: Callable[[], bool], *, timeout_s: float = 60.0) -> None:
    """Poll ``predicate`` every half second until it holds, failing after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError("condition not met in time")


def header(*, key: str, reference: str, flow: str = "d365-salesorder-to-s4") -> dict[str, Any]:
    """A command header with a fresh command id."""
    return {
        "commandId": str(uuid.uuid4()),
        "issuedAt": datetime.now(UTC),
        "flow": flow,
        "idempotency": {
            "sourceSystem": "D365",
            "sourceId": key,
            "externalReference": reference,
            "sourceVersion": None,
        },
        "causationId": None,
        "correlationId": None,
    }


def sales_order(
    *,
    key: str,
    reference: str,
    sold_to: str = "10100001",
    action: str = "CREATE",
    material: str = "TG11",
    delivery: date | None = None,
) -> dict[str, Any]:
    """A SalesOrderCommand for sales area 1010/10/00."""
    return {
        "header": header(key=key, reference=reference),
        "action": action,
        "SalesOrder": None,
        "SalesOrderType": "OR",
        "SalesOrganization": "1010",
        "DistributionChannel": "10",
        "OrganizationDivision": "00",
        "SoldToParty": sold_to,
        "PurchaseOrderByCustomer": reference,
        "CustomerPurchaseOrderDate": None,
        "RequestedDeliveryDate": delivery,
        "TransactionCurrency": "EUR",
        "CustomerPaymentTerms": None,
        "ShippingCondition": None,
        "to_Partner": [],
        "to_Item": [order_line("10", material, "2.000")],
    }


def _sink_harness(
    broker: Broker,
    unique_name: Callable[[str], str],
    repo_root: Path,
    log_dir: Path,
    *,
    service: str,
    entity: str,
    env: dict[str, str],
) -> SinkHarness:
    """Topics provisioned like production (commands, outputs, compacted xref and parked) and
    the environment every sink reads, with ``env`` (the target's settings) on top."""
    system = "s4" if service == "sap-sink" else "d365"
    topics = SinkTopicsUnderTest(
        prefix=unique_name("") + ".", group=unique_name(service), system=system, entity=entity
    )
    create_topics(broker, topics.commands, partitions=4)
    outputs = (topics.results, topics.state, topics.audit, topics.dlq, *topics.retries)
    create_topics(broker, *outputs, partitions=4)
    compacted = (topics.xref, f"{topics.group}.parked")
    create_topics(broker, *compacted, partitions=1, **{"cleanup.policy": "compact"})
    prefix = "ISTHMUS_" + service.upper().replace("-", "_") + "_"
    shared = {
        "KAFKA__BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "PROCESSOR__GROUP_ID": topics.group,
        "PROCESSOR__RETRY_DELAYS_MS": json.dumps(list(RETRY_DELAYS_MS)),
        "SINK__TOPIC_PREFIX": topics.prefix,
        "SINK__ENTITIES": json.dumps([entity]),
        "SCHEMAS__SCHEMAS_DIR": str(repo_root / "schemas"),
        "CATALOGUE": str(repo_root / "deploy" / "topics.yaml"),
    }
    return SinkHarness(
        broker=broker,
        topics=topics,
        factory=SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas")),
        repo_root=repo_root,
        log_dir=log_dir,
        env={prefix + name: value for name, value in {**shared, **env}.items()},
        module="isthmus." + service.replace("-", "_"),
    )


ProvisionSink = Callable[[str, str, dict[str, str]], SinkHarness]


@pytest.fixture
def provision_sink(
    kafka_broker: Broker, unique_name, repo_root: Path, tmp_path: Path
) -> Iterator[ProvisionSink]:
    """Provision a sink (service, entity, target settings); its replicas stop at the test's end."""
    harnesses: list[SinkHarness] = []

    def provision(service: str, entity: str, env: dict[str, str]) -> SinkHarness:
        harness = _sink_harness(
            kafka_broker, unique_name, repo_root, tmp_path, service=service, entity=entity, env=env
        )
        harnesses.append(harness)
        return harness

    yield provision
    for harness in harnesses:
        harness.stop_all()


def _s4_target(sandbox: SandboxS4) -> dict[str, str]:
    """sap-sink settings for the S/4 sandbox: small batches, a quick breaker, short retries."""
    return {
        "PROCESSOR__BATCH_SIZE": "100",
        "SINK__BREAKER_OPEN_S": "1",
        "S4__BASE_URL": sandbox.base_url,
        "S4__USER": sandbox.user,
        "S4__PASSWORD": sandbox.password,
        "S4__CA_BUNDLE": str(sandbox.ca_file),
        "S4__RETRY__DEADLINE_SECONDS": "20",
        "BILLING_RUN_URL": f"{sandbox.base_url}/_sandbox/billing-run",
    }


@pytest.fixture
def sap_sink(sandbox_s4_clean: SandboxS4, provision_sink: ProvisionSink) -> SinkHarness:
    """A provisioned sap-sink test set-up (topics, env); start replicas with ``.start()``."""
    return provision_sink("sap-sink", "salesorder", _s4_target(sandbox_s4_clean))


def account_upsert(*, partner: str, name: str, currency: str | None = None) -> dict[str, Any]:
    """An AccountUpsertCommand keyed by the S/4 business partner number."""
    return {
        "header": header(key=partner, reference=partner, flow="s4-businesspartner-to-d365-account"),
        "action": "UPSERT",
        "isthmus_s4businesspartner": partner,
        "accountid": None,
        "name": name,
        "accountnumber": None,
        "address1_line1": None,
        "address1_line2": None,
        "address1_city": "Walldorf",
        "address1_stateorprovince": None,
        "address1_postalcode": None,
        "address1_country": "DE",
        "emailaddress1": None,
        "telephone1": None,
        "isocurrencycode": currency,
    }


def _dataverse_target(sandbox: SandboxD365) -> dict[str, str]:
    """d365-sink settings for the Dataverse sandbox and its token endpoint."""
    return {
        "D365__ENVIRONMENT_URL": sandbox.base_url,
        "D365__SCOPE": f"{ORG_URL}/.default",
        "D365__TENANT_ID": sandbox.tenant_id,
        "D365__CLIENT_ID": sandbox.client_id,
        "D365__CLIENT_SECRET": sandbox.client_secret,
        "D365__AUTHORITY_HOST": sandbox.base_url,
        "D365__CA_BUNDLE": str(sandbox.ca_file),
    }


@pytest.fixture
def d365_sink(sandbox_d365_clean: SandboxD365, provision_sink: ProvisionSink) -> SinkHarness:
    """A provisioned d365-sink test set-up for account commands."""
    return provision_sink("d365-sink", "account", _dataverse_target(sandbox_d365_clean))
