"""What a handler sees and returns, and the serializer protocol the loop is given."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka import headers as h

K = TypeVar("K")
V = TypeVar("V")
K_co = TypeVar("K_co", covariant=True)
V_co = TypeVar("V_co", covariant=True)


class SerializerLike(Protocol):
    """confluent-kafka's ``Serializer`` protocol: ``serializer(obj, ctx) -> bytes``."""

    def __call__(self, obj: Any, ctx: SerializationContext | None = None, /) -> bytes | None: ...


class DeserializerLike(Protocol):
    """confluent-kafka's ``Deserializer`` protocol: ``deserializer(data, ctx) -> object``."""

    def __call__(self, value: bytes | None, ctx: SerializationContext | None = None, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Codecs:
    """How a stream processor decodes its input and encodes its outputs (None: bytes as is)."""

    key_deserializer: DeserializerLike | None = None
    value_deserializer: DeserializerLike | None = None
    key_serializer: SerializerLike | None = None
    value_serializer: SerializerLike | None = None


@dataclass(frozen=True, slots=True)
class Record(Generic[K, V]):
    """One decoded input record.

    ``topic`` is the source topic even when the record was read back from a retry topic
    (``delivered_from``), so handlers dispatch on the topic the event was published to.
    """

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: K
    value: V
    headers: h.Headers
    attempt: int = 0
    delivered_from: str = ""
    raw_key: bytes | None = None

    @property
    def correlation_id(self) -> str | None:
        """``isthmus_correlation_id``, else the CloudEvent id, else None."""
        return h.get_str(self.headers, h.CORRELATION_ID) or h.get_str(self.headers, h.CE_ID)

    @property
    def cloud_event(self) -> h.CloudEvent | None:
        """The CloudEvents attributes of the record, when it carries them."""
        return h.read_cloud_event(self.headers)


@dataclass(frozen=True, slots=True)
class Output:
    """One record the handler wants produced; key and value go through the serializers."""

    topic: str
    key: Any
    value: Any
    headers: Mapping[str, bytes | None] = field(default_factory=dict)


class Handler(Protocol[K_co, V_co]):
    """A pure step: one typed input record to zero or more outputs (no I/O, no commits).

    Raise ``RetryableError`` for a transient failure and ``InvalidRecordError`` for a record
    that can never succeed; anything else stops the loop as a bug.
    """

    def __call__(self, record: Record[Any, Any], /) -> Sequence[Output]: ...


class TopicSerializer:
    """One serializer per output topic, for handlers that write more than one schema."""

    def __init__(self, *, by_topic: Mapping[str, SerializerLike], default: SerializerLike) -> None:
        self._by_topic = dict(by_topic)
        self._default = default

    def __call__(self, obj: Any, ctx: SerializationContext | None = None, /) -> bytes | None:
        """Serialize with the serializer of ``ctx.topic`` (or the default)."""
        chosen = self._by_topic.get(ctx.topic, self._default) if ctx else self._default
        return chosen(obj, ctx)
