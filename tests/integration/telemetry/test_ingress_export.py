"""The ingress as a real process exports the SERVER span its produced event continues from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from isthmus.sandbox_d365.business.seed import sid
from isthmus.testing.kafka import Broker
from isthmus.testing.sandbox_d365 import SandboxD365
from tests.integration.ingress.conftest import (
    WEBHOOK_KEY,
    RunningIngress,
    headers_of,
    ingress_env,
    make_topics,
    records_for,
    start_ingress,
)
from tests.integration.telemetry.receiver import OtlpReceiver

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def traced_ingress(
    kafka_broker: Broker,
    sandbox_d365: SandboxD365,
    otlp_receiver: OtlpReceiver,
    tmp_path: Path,
) -> Iterator[RunningIngress]:
    """An ingress process exporting its spans to ``otlp_receiver``."""
    topics = make_topics(kafka_broker)
    env = ingress_env(
        kafka_broker.bootstrap_servers,
        topics,
        d365=sandbox_d365,
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="200",
    )
    running = start_ingress(env, topics, tmp_path)
    try:
        yield running
    finally:
        running.process.stop()


def _create_order(sandbox: SandboxD365) -> str:
    body = {
        "name": f"Traced order {uuid.uuid4().hex[:6]}",
        "customerid_account@odata.bind": f"/accounts({sid('account:C-10001')})",
        "pricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
        "transactioncurrencyid@odata.bind": f"/transactioncurrencies({sid('currency:USD')})",
        "order_details": [
            {"productid@odata.bind": f"/products({sid('product:TG11')})", "quantity": 1}
        ],
    }
    with sandbox.api_client() as api:
        response = api.post("salesorders", json=body, headers={"Prefer": "return=representation"})
    assert response.status_code == 201, response.text
    return str(response.json()["salesorderid"])


def test_the_ingress_exports_the_span_of_a_webhook_in_the_events_trace(
    traced_ingress: RunningIngress,
    sandbox_d365_clean: SandboxD365,
    otlp_receiver: OtlpReceiver,
    kafka_broker: Broker,
) -> None:
    sandbox_d365_clean.admin.add_webhook(
        url=f"{traced_ingress.url}/v1/webhooks/dataverse",
        message="Create",
        table="salesorder",
        auth_type="WebhookKey",
        auth_value=WEBHOOK_KEY,
        mode=1,
    )
    order_id = _create_order(sandbox_d365_clean)

    topic = traced_ingress.topics.d365["salesorder"]
    (record,) = records_for(kafka_broker, topic, order_id, expected=1)
    _version, trace_id, parent_id, _flags = headers_of(record)["traceparent"].split("-")
    spans = otlp_receiver.wait_for(trace_id=trace_id, kind=Span.SPAN_KIND_SERVER)
    (server,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert server.name == "ingress dataverse webhook"
    assert server.span_id == parent_id  # the event continues from the webhook's span
    assert server.resource["service.name"] == "ingress"
