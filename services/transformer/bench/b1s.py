"""B1s: bare confluent-kafka consume → fastavro decode + encode (same schema) → produce.

Run as ``python b1s.py BOOTSTRAP GROUP SOURCE OUTPUT SCHEMAS_DIR``; stops on SIGTERM. Offsets are
stored after the batch was produced (at-least-once); librdkafka commits them every 5 s (its
default).
"""

from __future__ import annotations

import io
import signal
import sys
from pathlib import Path
from types import FrameType

import fastavro
from confluent_kafka import Consumer, Message, Producer, TopicPartition

from isthmus.schemas import SchemaCatalogue

SCHEMA = "io.isthmus.d365.SalesOrderEvent"
_HEADER = 10  # single-object encoding: C3 01 + 8-byte fingerprint


def main() -> int:
    """Pass records through until SIGTERM."""
    bootstrap, group, source, output, schemas = sys.argv[1:6]
    entry = SchemaCatalogue.load(Path(schemas)).get(SCHEMA)
    schema, header = entry.parsed, b"\xc3\x01" + entry.fingerprint_bytes
    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.offset.store": False, "enable.auto.commit": True,
    })  # fmt: skip
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True}
    )
    stopping = False

    def stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    consumer.subscribe([source])
    while not stopping:
        batch = consumer.consume(500, timeout=0.2)
        for message in batch:
            if message.error() is not None:
                continue
            value = fastavro.schemaless_reader(
                io.BytesIO((message.value() or b"")[_HEADER:]), schema, None
            )
            out = io.BytesIO()
            out.write(header)
            fastavro.schemaless_writer(out, schema, value)
            producer.produce(output, key=message.key(), value=out.getvalue())
            producer.poll(0)
        if batch:
            consumer.store_offsets(offsets=_next_offsets(batch))
    producer.flush(30)
    consumer.close()
    return 0


def _next_offsets(batch: list[Message]) -> list[TopicPartition]:
    last: dict[tuple[str, int], int] = {}
    for message in batch:
        if message.error() is None:
            last[(message.topic() or "", message.partition() or 0)] = (message.offset() or 0) + 1
    return [TopicPartition(t, p, o) for (t, p), o in last.items()]


if __name__ == "__main__":
    sys.exit(main())
