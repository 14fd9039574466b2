"""The baselines: B1 (bare confluent-kafka passthrough) and B1s (B1 + fastavro decode/encode)."""

from __future__ import annotations

import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from fastavro import schemaless_reader, schemaless_writer

from isthmus.kafka.clients import consumer_config, producer_config
from isthmus.kafka.settings import KafkaSettings, ProcessorSettings

Transform = Callable[[bytes], bytes]
_SINGLE_OBJECT_HEADER = 10  # C3 01 + 8-byte fingerprint


def fastavro_roundtrip(parsed: Any) -> Transform:
    """Decode the single-object body with fastavro and encode it again (B1s)."""

    def transform(value: bytes) -> bytes:
        body = BytesIO(value)
        body.seek(_SINGLE_OBJECT_HEADER)
        record = schemaless_reader(body, parsed, None)
        out = BytesIO()
        out.write(value[:_SINGLE_OBJECT_HEADER])
        schemaless_writer(out, parsed, record)
        return out.getvalue()

    return transform


def passthrough(
    *,
    kafka: KafkaSettings,
    source: str,
    output: str,
    group: str,
    count: int,
    transform: Transform | None = None,
) -> tuple[float, float]:
    """Consume ``count`` records, produce them (transformed) and commit; return (start, end).

    The clients use the runtime's own at-least-once configuration, so only the loop differs:
    ``consume(500)`` → ``produce()`` → offsets stored after produce, committed by librdkafka.
    """
    settings = ProcessorSettings(group_id=group)
    consumer = Consumer(consumer_config(kafka=kafka, processor=settings))
    producer = Producer(producer_config(kafka=kafka, processor=settings))
    consumer.subscribe([source])
    seen, start = 0, 0.0
    while seen < count:
        batch = consumer.consume(500, timeout=0.2)
        if not batch:
            continue
        start = start or time.perf_counter()
        last: dict[tuple[str, int], int] = {}
        for message in batch[: count - seen]:
            value = message.value() or b""
            producer.produce(
                output,
                transform(value) if transform else value,
                message.key(),
                headers=message.headers(),
            )
            last[(message.topic() or "", message.partition() or 0)] = message.offset() or 0
        seen += min(len(batch), count - seen)
        producer.poll(0)
        consumer.store_offsets(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()])
    producer.flush(60)
    try:
        consumer.commit(asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() != KafkaError._NO_OFFSET:  # auto-commit got there first
            raise
    consumer.close()
    return start, time.perf_counter()
