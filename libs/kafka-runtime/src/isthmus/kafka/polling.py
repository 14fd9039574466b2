"""Polling that hands over what has arrived, without waiting for a batch to fill."""

from __future__ import annotations

from confluent_kafka import Consumer, Message


def take(consumer: Consumer, most: int, *, timeout: float) -> list[Message]:
    """Up to ``most`` records the consumer has already fetched; when it has none, the first to
    arrive within ``timeout`` and what came with it (an empty list after the timeout).

    ``Consumer.consume(n, timeout)`` returns only once ``n`` records are there or the timeout
    is over, so at a low rate every record would wait the whole timeout.
    """
    ready = consumer.consume(most, timeout=0)
    if ready:
        return ready
    first = consumer.poll(timeout)
    if first is None:
        return []
    return [first, *consumer.consume(most - 1, timeout=0)] if most > 1 else [first]
