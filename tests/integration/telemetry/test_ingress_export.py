"""The ingress as a real process exports the SERVER span its produced event continues from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from isthmus.testing.kafka import Broker
from isthmus.testing.sandbox_d365 import SandboxD365
from tests.integration.ingress.conftest import (
    RunningIngress,
    create_d365_order,
    headers_of,
    ingress_process,
    records_for,
    send_order_creations_to,
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
    with ingress_process(
        kafka_broker,
        tmp_path,
        d365=sandbox_d365,
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="200",
    ) as running:
        yield running


def test_the_ingress_exports_the_span_of_a_webhook_in_the_events_trace(
    traced_ingress: RunningIngress,
    sandbox_d365_clean: SandboxD365,
    otlp_receiver: OtlpReceiver,
    kafka_broker: Broker,
) -> None:
    send_order_creations_to(traced_ingress, sandbox_d365_clean)
    order_id = create_d365_order(
        sandbox_d365_clean, f"Traced order {uuid.uuid4().hex[:6]}", {"TG11": 1}
    )

    topic = traced_ingress.topics.d365["salesorder"]
    (record,) = records_for(kafka_broker, topic, order_id, expected=1)
    _version, trace_id, parent_id, _flags = headers_of(record)["traceparent"].split("-")
    spans = otlp_receiver.wait_for(trace_id=trace_id, kind=Span.SPAN_KIND_SERVER)
    (server,) = [s for s in spans if s.kind == Span.SPAN_KIND_SERVER]
    assert server.name == "ingress dataverse webhook"
    assert server.span_id == parent_id  # the event continues from the webhook's span
    assert server.resource["service.name"] == "ingress"
