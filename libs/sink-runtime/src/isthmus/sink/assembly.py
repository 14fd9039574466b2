"""Assemble a sink loop from settings, a schema factory and the sink's executor."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.liveness import LoopHealth
from isthmus.kafka.loop import ConsumeLoop
from isthmus.kafka.parking import PARKED_SCHEMA, ParkedCodec, ParkedKeys
from isthmus.kafka.probes import ProbeServer, loop_probes
from isthmus.kafka.records import SerializerLike
from isthmus.kafka.routing import routes_for
from isthmus.kafka.settings import ProcessorSettings
from isthmus.schemas.factory import SerdeFactory
from isthmus.sink.breaker import CircuitBreaker
from isthmus.sink.context import SinkContext
from isthmus.sink.metrics import SinkMetrics
from isthmus.sink.model import Executor
from isthmus.sink.settings import SinkServiceSettings
from isthmus.sink.topics import SinkTopics
from isthmus.sink.work import SinkWork
from isthmus.sink.xref import XrefKeys


class OutputSerializer:
    """Serializes each output by the schema its topic carries (result, state, xref, audit)."""

    def __init__(self, *, factory: SerdeFactory, topics: SinkTopics) -> None:
        self._topics = topics
        self._by_schema: dict[str, SerializerLike] = {
            name: factory.serializer(value_schema=name) for name in topics.output_schemas()
        }

    def __call__(self, obj: Any, ctx: SerializationContext | None = None, /) -> bytes | None:
        """Serialize ``obj`` for ``ctx.topic``."""
        if ctx is None:
            raise ValueError("an output serializer needs the topic")
        return self._by_schema[self._topics.schema_of(ctx.topic)](obj, ctx)


@dataclass
class SinkRuntime:
    """What the composition root built: the loop, its health server and xref reader."""

    loop: ConsumeLoop
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


def sink_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop a sink's executor and its clients run on (the main thread's)."""
    aio = asyncio.new_event_loop()
    asyncio.set_event_loop(aio)
    return aio


def build_runtime(
    *,
    service: str,
    system: str,
    entities: Sequence[str],
    settings: SinkServiceSettings,
    processor: ProcessorSettings,
    root: Path,
    executor: Executor,
    xref: XrefKeys | None,
    aio: asyncio.AbstractEventLoop,
) -> SinkRuntime:
    """Wire a sink: topics and routes (from the topic catalogue under ``root``), codecs,
    breaker, metrics, health and the loop."""
    kafka, sink = settings.kafka, settings.sink
    factory = SerdeFactory(settings=settings.schemas, root=root)
    catalogue = load_catalogue(root / settings.catalogue)
    topics = SinkTopics(
        system=system, catalogue=catalogue, prefix=sink.topic_prefix, xref_name=sink.xref_topic
    )
    routes = routes_for(processor, catalogue=catalogue, service=service)
    try:
        parked_schema = catalogue.resolve(routes.parked)[1].value_schema or PARKED_SCHEMA
    except KeyError:  # a group of its own (tests): the schema every parked topic names
        parked_schema = PARKED_SCHEMA
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
    loop = ConsumeLoop(
        kafka=kafka,
        settings=processor,
        topics=[topics.commands(entity) for entity in chosen],
        routes=routes,
        parked=ctx.parked,
        work=SinkWork(ctx),
        health=state,
        name="sink",
        waits=xref,
    )
    alive, ready = loop_probes(state)
    health = ProbeServer(host=sink.health_host, port=sink.health_port, alive=alive, ready=ready)
    return SinkRuntime(loop=loop, health=health, xref=xref, ctx=ctx)
