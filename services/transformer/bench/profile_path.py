"""Profile the transformer's per-record path in one process, without a broker (not a test).

Usage: ``uv run python services/transformer/bench/profile_path.py [--events N] [--top N]``

The bench's sales-order events, encoded as on the wire, go through the runtime's
``RecordSteps`` (headers, span, decode, the transformer's handler with the real flow, command
and audit encode) exactly as the consume loop runs them per record, with telemetry set up as the
service's entry point does (context-only spans). Only the Kafka producer is replaced by a list,
so the figures are the Python cost per record without librdkafka and the broker. Prints µs per
record, then the cProfile lines with the most own time.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Message
from confluent_kafka.serialization import MessageField, SerializationContext
from opentelemetry.exporter.prometheus import PrometheusMetricReader

from isthmus.devenv.paths import find_root
from isthmus.kafka import headers as h
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.context_tracer import ContextOnlyTracer
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.records import Codecs
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import ProcessorSettings
from isthmus.kafka.steps import RecordSteps
from isthmus.mapping import InMemoryLookups
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.telemetry.metrics import RuntimeMetrics
from isthmus.telemetry.setup import setup_telemetry
from isthmus.transformer.adapters.flow_files import load_flow_set
from isthmus.transformer.adapters.serde import InputDecoder, OutputSerializer, catalogue_schemas
from isthmus.transformer.core.events import SourceDecoder, utf8_key
from isthmus.transformer.core.handler import TransformHandler
from isthmus.transformer.samples import avro_typed

sys.path.insert(0, str(Path(__file__).parent))
from workload import (  # type: ignore[import-not-found]
    EVENT_SCHEMA,
    customers,
    load_sample,
    order_events,
)

SOURCE = "d365.salesorder.events"


class ListDelivery:
    """Collects what the loop would produce (stands in for the producer in this profile only)."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes | None, bytes | None, h.Headers]] = []

    def produce(
        self, topic: str, key: bytes | None, value: bytes | None, headers: h.Headers
    ) -> None:
        """Keep one output."""
        self.records.append((topic, key, value, headers))


def _messages(repo: Path, serdes: SerdeFactory, count: int) -> tuple[list[Message], dict[str, str]]:
    pool = customers(2000)
    events = order_events(count=count, sample=load_sample(repo), pool=pool)
    schema = json.loads(serdes.catalogue.get(EVENT_SCHEMA).text)
    serializer = serdes.serializer(value_schema=EVENT_SCHEMA)
    ctx = SerializationContext(SOURCE, MessageField.VALUE)
    messages = []
    for offset, event in enumerate(events):
        cloud = h.CloudEvent(
            id=event["envelope"]["eventId"], source="/bench", type="Create", time=datetime.now(UTC)
        )
        headers: list[tuple[str, str | bytes | None]] = [
            (k, v) for k, v in cloud.headers().items() if v is not None
        ]
        messages.append(
            Message(
                topic=SOURCE, partition=offset % 6, offset=offset, timestamp=(1, 0),
                key=event["data"]["salesorderid"].encode(), headers=headers,
                value=serializer(avro_typed(event, schema), ctx),
            )
        )  # fmt: skip
    return messages, dict(pool)


def _steps(repo: Path, serdes: SerdeFactory, pool: dict[str, str]) -> RecordSteps:
    catalogue = load_catalogue(repo / "deploy" / "topics.yaml")
    schemas = catalogue_schemas(catalogue)
    flows = load_flow_set(repo / "flows")
    routes = Routes.from_catalogue(catalogue, group="transformer", template="transformer")

    def output_schema(topic: str) -> str | None:
        return flows.target_topics.get(topic) or schemas.get(topic)

    handler = TransformHandler(
        flows=lambda: flows, lookups=InMemoryLookups({"account": pool}), routes=routes
    )
    return RecordSteps(
        settings=ProcessorSettings(group_id="transformer", exactly_once=True),
        routes=routes,
        handler=handler,
        parked=ParkedKeys(),
        metrics=RuntimeMetrics.create(),
        codecs=Codecs(
            key_deserializer=utf8_key,
            value_deserializer=SourceDecoder(
                decoder=InputDecoder(factory=serdes, schema_of=schemas.get), flows=lambda: flows
            ),
            value_serializer=OutputSerializer(factory=serdes, schema_of=output_schema),
        ),
        spans=ContextOnlyTracer(),  # as the service's entry point configures it
    )


def _run(steps: RecordSteps, messages: list[Message]) -> ListDelivery:
    delivery = ListDelivery()
    now = datetime.now(UTC)
    for message in messages:
        steps.process(message, delivery=delivery, now=now)  # type: ignore[arg-type]
    return delivery


def main() -> None:
    """Time and profile the per-record path."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    repo = find_root(Path(__file__))
    setup_telemetry(service="transformer", log_level="WARNING",
                    metric_readers=(PrometheusMetricReader(),))  # fmt: skip
    serdes = SerdeFactory(settings=SchemaSettings(schemas_dir=repo / "schemas"))
    messages, pool = _messages(repo, serdes, args.events)
    steps = _steps(repo, serdes, pool)
    out = _run(steps, messages[:200])  # warm caches
    gc.collect()
    gc.freeze()  # as TransformerApp.run does before its loop
    assert {t for t, *_ in out.records} == {"s4.salesorder.commands", "audit.events"}  # noqa: S101
    started = time.process_time()  # CPU, so other processes on the machine count less
    _run(steps, messages)
    elapsed = time.process_time() - started
    print(f"{1e6 * elapsed / len(messages):.1f} us CPU per record over {len(messages)} records")
    profile = cProfile.Profile()
    profile.runcall(_run, steps, messages)
    stats: Any = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
