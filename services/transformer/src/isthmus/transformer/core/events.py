"""The decoded form of a source record: the Avro value, its bytes, or why it did not decode."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka.serialization import SerializationContext

from isthmus.kafka.errors import ErrorClass, Stage
from isthmus.kafka.routing import classify
from isthmus.transformer.core.dispatch import FlowSet


@dataclass(frozen=True, slots=True)
class SourceEvent:
    """One source record as the handler sees it.

    ``raw`` keeps the bytes for the DLQ copy and the audit digest; ``error`` is set instead of
    ``value`` when the bytes did not decode, so that the handler can still audit the hop.
    ``flows`` is the flow set the value was decoded for: ``value`` holds the fields those flows
    read, so the handler maps it with that set even when a reload came in between.
    """

    value: Mapping[str, Any] | None
    raw: bytes | None
    error: Exception | None = None
    flows: FlowSet | None = None


Decoder = Callable[[bytes | None, SerializationContext | None, frozenset[str] | None], Any]
"""Decodes a value with the topic's schema, keeping only the given field paths (None: all)."""


class SourceDecoder:
    """A value deserializer for the runtime: decodes what the flows in service read, keeps bytes."""

    def __init__(self, *, decoder: Decoder, flows: Callable[[], FlowSet]) -> None:
        self._decoder = decoder
        self._flows = flows

    def __call__(
        self, value: bytes | None, ctx: SerializationContext | None = None, /
    ) -> SourceEvent:
        """Decode ``value``; a decoding failure is returned, not raised."""
        flows = self._flows()
        try:
            decoded = self._decoder(value, ctx, flows.reads_of(ctx.topic) if ctx else None)
        except Exception as exc:
            if classify(exc, stage=Stage.DECODE) is ErrorClass.RETRYABLE:
                raise  # e.g. the registry is down: the runtime retries, nothing is lost
            return SourceEvent(value=None, raw=value, error=exc)
        if not isinstance(decoded, Mapping):
            error = TypeError(f"decoded to {type(decoded).__name__}, expected a record")
            return SourceEvent(value=None, raw=value, error=error)
        return SourceEvent(value=decoded, raw=value, flows=flows)


def passthrough(obj: Any, _ctx: SerializationContext | None = None, /) -> bytes | None:
    """A serializer for records that already are bytes (the DLQ keeps the source bytes)."""
    if obj is None or isinstance(obj, bytes):
        return obj
    raise TypeError(f"expected bytes, got {type(obj).__name__}")


def utf8_key(value: bytes | None, _ctx: SerializationContext | None = None, /) -> str | None:
    """Record keys are business keys in UTF-8."""
    return None if value is None else value.decode("utf-8", errors="replace")
