"""What one sink loop is built from; shared by the loop and the per-poll batch (no I/O here)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.kafka import headers as h
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.records import DeserializerLike, Output, SerializerLike
from isthmus.kafka.routing import Routes
from isthmus.sink.breaker import CircuitBreaker
from isthmus.sink.metrics import SinkMetrics
from isthmus.sink.model import Executor
from isthmus.sink.outcomes import OutcomeRecords
from isthmus.sink.settings import SinkSettings
from isthmus.sink.topics import SinkTopics
from isthmus.sink.versions import AppliedVersions
from isthmus.sink.xref import XrefKeys

T = TypeVar("T")

Encoded = tuple[str, bytes | None, bytes | None, h.Headers]


@dataclass
class SinkContext:
    """The parts of a sink: topics, routes, parked keys, executor, codecs, breaker, metrics,
    and the source versions it applied (to skip replays of older ones)."""

    service: str
    settings: SinkSettings
    topics: SinkTopics
    routes: Routes
    executor: Executor
    value_deserializer: DeserializerLike
    value_serializer: SerializerLike
    metrics: SinkMetrics
    breaker: CircuitBreaker
    parked: ParkedKeys
    xref: XrefKeys | None
    aio: asyncio.AbstractEventLoop
    versions: AppliedVersions = field(default_factory=AppliedVersions)

    @cached_property
    def outcomes(self) -> OutcomeRecords:
        """The records each outcome of a command produces, on this sink's topics."""
        return OutcomeRecords(topics=self.topics, service=self.service)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run one coroutine of the executor on the sink's event loop."""
        return self.aio.run_until_complete(coroutine)

    def encode(self, output: Output, *, forwarded: h.Headers) -> Encoded:
        """Serialize an output; trace and correlation headers of the command travel along."""
        key = output.key.encode() if isinstance(output.key, str) else output.key
        ctx = SerializationContext(output.topic, MessageField.VALUE)
        value = None if output.value is None else self.value_serializer(output.value, ctx)
        headers = h.merge(forwarded, dict(output.headers))
        return output.topic, key, value, headers
