"""Assemble a sink loop from settings, a schema factory and the sink's executor."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka.liveness import LoopHealth
from isthmus.kafka.parking import PARKED_SCHEMA, ParkedCodec, ParkedKeys
from isthmus.kafka.probes import ProbeServer, loop_probes
from isthmus.kafka.records import SerializerLike
from isthmus.kafka.routing import Routes
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.schemas.factory import SerdeFactory
from isthmus.sink.breaker import CircuitBreaker
from isthmus.sink.context import SinkContext
from isthmus.sink.loop import SinkLoop
from isthmus.sink.metrics import SinkMetrics
from isthmus.sink.model import Executor
from isthmus.sink.settings import SinkSettings
from isthmus.sink.topics import SinkTopics
from isthmus.sink.xref import XrefKeys

RESULT_SCHEMA = "io.isthmus.common.CommandResult"
STATE_SCHEMA = "io.isthmus.common.EntityState"
XREF_SCHEMA = "io.isthmus.common.CrossReference"
AUDIT_SCHEMA = "io.isthmus.audit.AuditEvent"


class OutputSerializer:
    """Serializes each output by the schema its topic carries (result, state, xref, audit)."""

    def __init__(self, *, factory: SerdeFactory, topics: SinkTopics) -> None:
        self._topics = topics
        self._by_schema: dict[str, SerializerLike] = {
            name: factory.serializer(value_schema=name)
            for name in (RESULT_SCHEMA, STATE_SCHEMA, XREF_SCHEMA, AUDIT_SCHEMA)
        }

    def schema_of(self, topic: str) -> str:
        """The value schema of an output topic.

        Raises:
            ValueError: the sink never writes ``topic``.
        """
        t = self._topics
        if topic == t.xref:
            return XREF_SCHEMA
        if topic == t.audit:
            return AUDIT_SCHEMA
        if topic.endswith(".results"):
            return RESULT_SCHEMA
        if topic.startswith(f"{t.prefix}state."):
            return STATE_SCHEMA
        raise ValueError(f"no schema for output topic {topic}")

    def __call__(self, obj: Any, ctx: SerializationContext | None = None, /) -> bytes | None:
        """Serialize ``obj`` for ``ctx.topic``."""
        if ctx is None:
            raise ValueError("an output serializer needs the topic")
        return self._by_schema[self.schema_of(ctx.topic)](obj, ctx)


@dataclass
class SinkRuntime:
    """What the composition root built: the loop, its health server and xref reader."""

    loop: SinkLoop
    health: ProbeServer
    xref: XrefKeys | None
    ctx: SinkContext

    def run(self) -> int:
        """Serve health, read xref, consume until stopped; return the exit code."""
        self.health.start()
        if self.xref is not None:
            self.xref.start()
        try:
            return self.loop.run()
        finally:
            if self.xref is not None:
                self.xref.stop()
            self.health.stop()
            self.ctx.aio.close()


def parked_codec(factory: SerdeFactory, *, schema: str = PARKED_SCHEMA) -> ParkedCodec:
    """The codec of a ``<group>.parked`` topic from the factory (registry or single-object).

    Raises:
        UnknownSchemaNameError: the catalogue has no such schema.
    """
    pair = factory.pair(value_schema=schema)
    return ParkedCodec(serializer=pair.serializer, deserializer=pair.deserializer)


def build_runtime(
    *,
    service: str,
    system: str,
    entities: Sequence[str],
    kafka: KafkaSettings,
    processor: ProcessorSettings,
    sink: SinkSettings,
    factory: SerdeFactory,
    routes: Routes,
    executor: Executor,
    xref: XrefKeys | None,
    aio: asyncio.AbstractEventLoop,
    parked_schema: str = PARKED_SCHEMA,
) -> SinkRuntime:
    """Wire a sink: topics, codecs, breaker, metrics, health and the loop.

    ``parked_schema`` is the catalogue's value schema of the ``<group>.parked`` topic.
    """
    topics = SinkTopics(system=system, prefix=sink.topic_prefix, xref_name=sink.xref_topic)
    chosen = sink.entities or tuple(entities)
    ctx = SinkContext(
        service=service,
        settings=sink,
        topics=topics,
        routes=routes,
        executor=executor,
        value_deserializer=factory.deserializer(value_schema=None),
        value_serializer=OutputSerializer(factory=factory, topics=topics),
        metrics=SinkMetrics.create(),
        breaker=CircuitBreaker(
            threshold=sink.breaker_threshold,
            open_s=sink.breaker_open_s,
            max_open_s=sink.breaker_max_open_s,
        ),
        parked=ParkedKeys(
            group=routes.group,
            topic=routes.parked,
            codec=parked_codec(factory, schema=parked_schema),
        ),
        xref=xref,
        aio=aio,
    )
    state = LoopHealth(stall_s=processor.stall_timeout_s)
    loop = SinkLoop(
        kafka=kafka,
        processor=processor,
        ctx=ctx,
        topics=[topics.commands(entity) for entity in chosen],
        health=state,
    )
    alive, ready = loop_probes(state)
    health = ProbeServer(host=sink.health_host, port=sink.health_port, alive=alive, ready=ready)
    return SinkRuntime(loop=loop, health=health, xref=xref, ctx=ctx)
