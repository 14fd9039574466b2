"""The decoded form of a source record: the Avro value, its bytes, or why it did not decode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka.errors import ErrorClass, Stage
from isthmus.kafka.routing import classify


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One source record as the handler sees it.

    ``raw`` keeps the bytes for the DLQ copy and the audit digest; ``error`` is set instead of
    ``value`` when the bytes did not decode, so that the handler can still audit the hop.
    """

    value: Mapping[str, Any] | None
    raw: bytes | None
    error: Exception | None = None


Decoder = Callable[[bytes | None, SerializationContext | None], Any]


class SourceDecoder:
    """A value deserializer for the runtime: decodes with the topic's decoder, keeps the bytes."""

    def __init__(self, *, by_topic: Mapping[str, Decoder], default: Decoder) -> None:
        self._by_topic = dict(by_topic)
        self._default = default

    def __call__(
        self, value: bytes | None, ctx: SerializationContext | None = None, /
    ) -> SourceEvent:
        """Decode ``value``; a decoding failure is returned, not raised."""
        decoder = self._by_topic.get(ctx.topic, self._default) if ctx else self._default
        try:
            decoded = decoder(value, ctx)
        except Exception as exc:
            if classify(exc, stage=Stage.DECODE) is ErrorClass.RETRYABLE:
                raise  # e.g. the registry is down: the runtime retries, nothing is lost
            return SourceEvent(value=None, raw=value, error=exc)
        if not isinstance(decoded, Mapping):
            error = TypeError(f"decoded to {type(decoded).__name__}, expected a record")
            return SourceEvent(value=None, raw=value, error=error)
        return SourceEvent(value=decoded, raw=value)


def passthrough(obj: Any, _ctx: SerializationContext | None = None, /) -> bytes | None:
    """A serializer for records that already are bytes (the DLQ keeps the source bytes)."""
    if obj is None or isinstance(obj, bytes):
        return obj
    raise TypeError(f"expected bytes, got {type(obj).__name__}")


def utf8_key(value: bytes | None, _ctx: SerializationContext | None = None, /) -> str | None:
    """Record keys are business keys in UTF-8."""
    return None if value is None else value.decode("utf-8", errors="replace")
