"""The ingress as a real process against the session broker and the sandboxes."""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.ingress.settings import DataverseWebhookSettings, SapEventSettings
from isthmus.sandbox_d365.business.seed import sid
from isthmus.schemas import SchemaCatalogue, SchemaSettings, SerdeFactory
from isthmus.testing.kafka import Broker, create_topics

__all__ = ["create_topics"]
from isthmus.testing.sandbox_d365 import ORG_URL, PUBLISH_API, SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4

REPO = Path(__file__).resolve().parents[3]
SAMPLES = Path(__file__).resolve().parent / "samples"
WEBHOOK_KEY = "test-webhook-key"
SAP_USER, SAP_PASSWORD = "event-mesh", "event-mesh-secret"
PUBLISH_KEY = "test-publish-key"
PUBLISH_ROLES = ("Events.Publish.Dataverse", "Events.Publish.S4")
SERDES = SerdeFactory(settings=SchemaSettings(), catalogue=SchemaCatalogue.load(REPO / "schemas"))


@dataclass
class Topics:
    """Unique topic names standing in for the catalogue's event topics."""

    prefix: str
    d365: dict[str, str] = field(default_factory=dict)
    s4: dict[str, str] = field(default_factory=dict)

    @property
    def shipment(self) -> str:
        return f"{self.prefix}.d365.shipment.events"

    @property
    def audit(self) -> str:
        return f"{self.prefix}.audit.events"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}.ingress.dlq"

    @property
    def state(self) -> str:
        return f"{self.prefix}.state.d365.account"

    def all(self) -> list[str]:
        return [
            *self.d365.values(),
            *self.s4.values(),
            self.shipment,
            self.audit,
            self.dlq,
            self.state,
        ]


def make_topics(broker: Broker) -> Topics:
    """Create one unique topic per route."""
    topics = Topics(prefix=f"t-ingress-{uuid.uuid4().hex[:8]}")
    for table in DataverseWebhookSettings().routes:
        topics.d365[table] = f"{topics.prefix}.d365.{table}.events"
    for kind in SapEventSettings().routes:
        topics.s4[kind] = f"{topics.prefix}.s4.{kind}.events"
    create_topics(broker, *topics.all())
    return topics


def ingress_env(
    bootstrap: str,
    topics: Topics,
    *,
    d365: SandboxD365 | None = None,
    s4: SandboxS4 | None = None,
    **extra: str,
) -> dict[str, str]:
    """Environment of an ingress process on a free port whose routes write to ``topics``."""
    port = free_port()
    d365_routes = {
        name: {**route.model_dump(), "topic": topics.d365[name]}
        for name, route in DataverseWebhookSettings().routes.items()
    }
    s4_routes = {
        name: {**route.model_dump(), "topic": topics.s4[name]}
        for name, route in SapEventSettings().routes.items()
    }
    env = {
        "ISTHMUS_INGRESS_PORT": str(port),
        "ISTHMUS_INGRESS_METRICS_PORT": str(free_port()),
        "ISTHMUS_INGRESS_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "ISTHMUS_INGRESS_DATAVERSE__AUTH_PAIRS": json.dumps({"code": WEBHOOK_KEY}),
        "ISTHMUS_INGRESS_DATAVERSE__ROUTES": json.dumps(d365_routes),
        "ISTHMUS_INGRESS_DATAVERSE__SHIPMENT_TOPIC": topics.shipment,
        "ISTHMUS_INGRESS_SAP__ROUTES": json.dumps(s4_routes),
        "ISTHMUS_INGRESS_SAP__USER": SAP_USER,
        "ISTHMUS_INGRESS_SAP__PASSWORD": SAP_PASSWORD,
        "ISTHMUS_INGRESS_SAP__COALESCE_WINDOW_S": "0.3",
        "ISTHMUS_INGRESS_AUDIT_TOPIC": topics.audit,
        "ISTHMUS_INGRESS_DLQ_TOPIC": topics.dlq,
        "ISTHMUS_INGRESS_STATE_TOPICS": json.dumps([topics.state]),
        "ISTHMUS_INGRESS_ACK_TIMEOUT_S": "5",
        "ISTHMUS_INGRESS_PUBLISH__API_KEYS": json.dumps(
            {"tests": {"secret": PUBLISH_KEY, "roles": PUBLISH_ROLES}}
        ),
    }
    if d365 is not None:
        env.update(
            {
                "ISTHMUS_INGRESS_PUBLISH__JWKS_URL": d365.jwks_url,
                "ISTHMUS_INGRESS_PUBLISH__ISSUERS": json.dumps([d365.issuer]),
                "ISTHMUS_INGRESS_PUBLISH__AUDIENCES": json.dumps([PUBLISH_API]),
                "ISTHMUS_INGRESS_PUBLISH__CA_FILE": str(d365.ca_file),
                "ISTHMUS_INGRESS_D365__ENVIRONMENT_URL": d365.base_url,
                "ISTHMUS_INGRESS_D365__SCOPE": f"{ORG_URL}/.default",
                "ISTHMUS_INGRESS_D365__TENANT_ID": d365.tenant_id,
                "ISTHMUS_INGRESS_D365__CLIENT_ID": d365.client_id,
                "ISTHMUS_INGRESS_D365__CLIENT_SECRET": d365.client_secret,
                "ISTHMUS_INGRESS_D365__AUTHORITY_HOST": d365.base_url,
                "ISTHMUS_INGRESS_D365__CA_BUNDLE": str(d365.ca_file),
            }
        )
    if s4 is not None:
        env.update(
            {
                "ISTHMUS_INGRESS_S4__BASE_URL": s4.base_url,
                "ISTHMUS_INGRESS_S4__USER": s4.user,
                "ISTHMUS_INGRESS_S4__PASSWORD": s4.password,
                "ISTHMUS_INGRESS_S4__CA_BUNDLE": str(s4.ca_file),
            }
        )
    env.update(extra)
    return env


@dataclass
class RunningIngress:
    """An ingress process and how to call it."""

    url: str
    topics: Topics
    process: ManagedProcess
    metrics_url: str = ""

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def webhook(self, body: bytes | dict[str, Any], **headers: str) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self.client() as client:
            return client.post(
                "/v1/webhooks/dataverse",
                params={"code": WEBHOOK_KEY},
                content=content,
                headers={"Content-Type": "application/json", **headers},
            )

    def publish(
        self,
        topic: str,
        body: bytes | dict[str, Any],
        *,
        api_key: str | None = PUBLISH_KEY,
        **headers: str,
    ) -> httpx.Response:
        """POST to the publish API, by default with the tests' API key."""
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **headers}
        if api_key is not None:
            sent["X-API-Key"] = api_key
        with self.client() as client:
            return client.post(f"/v1/events/{topic}", content=content, headers=sent)

    def sap_event(self, body: bytes | dict[str, Any], **headers: str) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        with self.client() as client:
            return client.post(
                "/v1/webhooks/sap",
                content=content,
                auth=(SAP_USER, SAP_PASSWORD),
                headers={"Content-Type": "application/cloudevents+json", **headers},
            )


def start_ingress(env: dict[str, str], topics: Topics, log_dir: Path) -> RunningIngress:
    """Start ``python -m isthmus.ingress`` and wait for /healthz."""
    port = int(env["ISTHMUS_INGRESS_PORT"])
    process = ManagedProcess(
        name="ingress",
        argv=[sys.executable, "-m", "isthmus.ingress"],
        log_file=log_dir / f"ingress-{port}.log",
        env=env,
    )
    process.start()
    url = f"http://127.0.0.1:{port}"
    process.wait_http_ready(f"{url}/healthz", timeout_s=60)
    metrics = f"http://127.0.0.1:{env['ISTHMUS_INGRESS_METRICS_PORT']}/metrics"
    return RunningIngress(url=url, topics=topics, process=process, metrics_url=metrics)


@contextmanager
def ingress_process(
    broker: Broker,
    log_dir: Path,
    *,
    topics: Topics | None = None,
    d365: SandboxD365 | None = None,
    s4: SandboxS4 | None = None,
    **extra: str,
) -> Iterator[RunningIngress]:
    """An ingress process for the block, stopped at its end; fresh unique topics unless given."""
    topics = topics or make_topics(broker)
    env = ingress_env(broker.bootstrap_servers, topics, d365=d365, s4=s4, **extra)
    running = start_ingress(env, topics, log_dir)
    try:
        yield running
    finally:
        running.process.stop()


@pytest.fixture(scope="module")
def ingress(
    kafka_broker: Broker,
    sandbox_d365: SandboxD365,
    sandbox_s4: SandboxS4,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningIngress]:
    """One ingress process for a test module, hydrating from both sandboxes."""
    with ingress_process(
        kafka_broker,
        tmp_path_factory.mktemp("ingress"),
        d365=sandbox_d365,
        s4=sandbox_s4,
        ISTHMUS_INGRESS_DATAVERSE__INTEGRATION_USER="aaaaaaaa-0000-0000-0000-000000000001",
    ) as running:
        yield running


def order_event(order_id: str) -> dict[str, Any]:
    """The shipped sales-order sample event for ``order_id``, with a fresh event id."""
    document = json.loads((REPO / "flows" / "samples" / "d365-salesorder-created.json").read_text())
    document["envelope"]["eventId"] = str(uuid.uuid4())
    document["data"]["salesorderid"] = order_id
    return dict(document)


def send_order_creations_to(ingress: RunningIngress, sandbox: SandboxD365) -> None:
    """Register the ingress webhook for created sales orders on the Dataverse sandbox."""
    sandbox.admin.add_webhook(
        url=f"{ingress.url}/v1/webhooks/dataverse",
        message="Create",
        table="salesorder",
        auth_type="WebhookKey",
        auth_value=WEBHOOK_KEY,
        mode=1,
    )


def create_d365_order(sandbox: SandboxD365, name: str, quantities: dict[str, int]) -> str:
    """Create a sales order for customer C-10001 with ``quantities`` by product; its id."""
    body = {
        "name": name,
        "customerid_account@odata.bind": f"/accounts({sid('account:C-10001')})",
        "pricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({sid('currency:USD')})",
        "order_details": [
            {"productid@odata.bind": f"/products({sid(f'product:{product}')})", "quantity": count}
            for product, count in quantities.items()
        ],
    }
    with sandbox.api_client() as api:
        response = api.post("salesorders", json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["salesorderid"])


def s4_write(
    sandbox: SandboxS4, service: str, method: str, path: str, body: dict[str, Any], **headers: str
) -> httpx.Response:
    """One modifying OData call to the S/4 sandbox, with the CSRF token fetched first."""
    url = sandbox.service_url(service)
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=30) as client:
        token = client.get(url, headers={"X-CSRF-Token": "Fetch"}).headers["x-csrf-token"]
        return client.request(
            method, f"{url}{path}", json=body, headers={"X-CSRF-Token": token, **headers}
        )


def thin_sap_event(event_type: str, data: dict[str, str]) -> dict[str, object]:
    """A thin structured S/4 CloudEvent of ``event_type`` that names its object in ``data``."""
    return {
        "type": event_type,
        "specversion": "1.0",
        "source": "/default/sap.s4.beh/S4HCLNT100",
        "id": str(uuid.uuid4()),
        "time": "2026-11-26T10:00:00Z",
        "datacontenttype": "application/json",
        "data": data,
    }


def decoded(message: Message, schema: str) -> dict[str, Any]:
    """The Avro value of a produced record."""
    value = SERDES.deserializer(value_schema=schema)(message.value())
    assert isinstance(value, dict)
    return value


def headers_of(message: Message) -> dict[str, str]:
    """The record headers as text."""
    pairs: list[tuple[str, bytes]] = list(message.headers() or [])  # type: ignore[arg-type]  # list form
    return {name: (raw or b"").decode() for name, raw in pairs}


def records_for(
    broker: Broker, topic: str, key: str, *, expected: int | None, timeout_s: float = 30
) -> list[Message]:
    """Records of ``topic`` with ``key``: all up to the current end, waiting for ``expected``."""
    consumer = Consumer(
        {
            **broker.settings.client_config(),
            "group.id": f"read-{uuid.uuid4().hex}",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        found: list[Message] = []
        positions = dict.fromkeys(partitions, -1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ends = {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p))[1] for p in partitions
            }
            _read_to(
                consumer,
                ends=ends,
                positions=positions,
                found=found,
                key=key.encode(),
                deadline=deadline,
            )
            if expected is None or len(found) >= expected:
                break
            time.sleep(0.2)
        return found
    finally:
        consumer.close()


def _read_to(
    consumer: Consumer,
    *,
    ends: dict[int, int],
    positions: dict[int, int],
    found: list[Message],
    key: bytes,
    deadline: float,
) -> None:
    while time.monotonic() < deadline and any(positions[p] + 1 < ends[p] for p in ends):
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        positions[message.partition() or 0] = message.offset() or 0
        if message.key() == key:
            found.append(message)


def wait_until(check: Callable[[], bool], *, timeout_s: float = 30) -> bool:
    """Poll ``check`` until it holds (bounded)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
