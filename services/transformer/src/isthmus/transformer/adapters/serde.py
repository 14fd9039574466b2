"""Serializers and deserializers chosen per topic, built once per schema and then reused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.catalogue import Catalogue
from isthmus.schemas import AvroDeserializer, AvroSerializer, SerdeFactory
from isthmus.transformer.core.events import passthrough

SchemaOf = Callable[[str], str | None]


def catalogue_schemas(catalogue: Catalogue) -> dict[str, str]:
    """``{topic: value schema}`` of every catalogue topic that declares one."""
    return {spec.name: spec.value_schema for spec in catalogue if spec.value_schema}


class OutputSerializer:
    """Encodes each output with the schema of its topic; topics without one pass bytes through.

    ``schema_of`` is asked per topic, so command topics of flows loaded later are covered too.
    """

    def __init__(self, *, factory: SerdeFactory, schema_of: SchemaOf) -> None:
        self._factory = factory
        self._schema_of = schema_of
        self._by_schema: dict[str, AvroSerializer] = {}

    def __call__(self, obj: Any, ctx: SerializationContext | None = None, /) -> bytes | None:
        """Serialize ``obj`` for ``ctx.topic``.

        Raises:
            RecordMismatchError: the value does not fit the topic's schema.
        """
        topic = ctx.topic if ctx else ""
        schema = AUDIT_SCHEMA if topic == AUDIT_TOPIC else self._schema_of(topic)
        if schema is None:
            return passthrough(obj, ctx)
        serializer = self._by_schema.get(schema)
        if serializer is None:
            serializer = self._by_schema[schema] = self._factory.serializer(value_schema=schema)
        return serializer(obj, ctx)


class InputDecoder:
    """Decodes a source topic with its catalogue schema as reader, or as the writer wrote it.

    Given the paths the flows read, the reader schema is projected to them, so the fields no
    flow reads are skipped, not decoded. One deserializer per topic is kept: a flow reload
    that reads other paths builds the next one.
    """

    def __init__(self, *, factory: SerdeFactory, schema_of: SchemaOf) -> None:
        self._factory = factory
        self._schema_of = schema_of
        self._by_topic: dict[str, tuple[frozenset[str] | None, AvroDeserializer]] = {}

    def __call__(
        self,
        value: bytes | None,
        ctx: SerializationContext | None = None,
        reads: frozenset[str] | None = None,
    ) -> Any:
        """Decode ``value`` read from ``ctx.topic``, keeping ``reads`` (None: every field).

        Raises:
            DecodeError: the bytes are not a record of a known schema.
        """
        topic = ctx.topic if ctx else ""
        cached = self._by_topic.get(topic)
        if cached is None or cached[0] != reads:
            schema = self._schema_of(topic) if ctx else None
            deserializer = self._factory.deserializer(
                value_schema=schema, reads=reads if schema is not None else None
            )
            cached = self._by_topic[topic] = (reads, deserializer)
        return cached[1](value, ctx)
