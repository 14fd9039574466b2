"""OpenTelemetry spans of the loop, with the messaging semantic-convention attributes."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer

TRACER_NAME = "isthmus.kafka"


def tracer() -> Tracer:
    """The runtime's tracer from the process's tracer provider (no-op until set up)."""
    return trace.get_tracer(TRACER_NAME)


def process_span(
    spans: Tracer,
    *,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    group: str,
    parent: Context | None,
) -> Span:
    """A CONSUMER ``process <topic>`` span, child of the producer's context in the headers."""
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
        "messaging.destination.name": topic,
        "messaging.destination.partition.id": str(partition),
        "messaging.kafka.offset": offset,
        "messaging.consumer.group.name": group,
    }
    if key is not None:
        attributes["messaging.kafka.message.key"] = key.decode("utf-8", errors="replace")
    return spans.start_span(
        f"process {topic}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    )
