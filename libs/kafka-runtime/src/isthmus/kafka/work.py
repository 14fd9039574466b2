"""The contract between the consume loop and what a service does with a poll."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from confluent_kafka import Message

from isthmus.kafka.delivery import Delivery, Offsets

TopicPartitionKey = tuple[str, int]


@dataclass
class Handled:
    """What the work did with a poll: the offsets it passed, and what the loop must hold.

    ``rewind`` names partitions whose work stopped short (a command held because the target is
    down): the loop seeks them back to that offset. ``hold`` asks the loop to pause every
    partition until ``Work.probe`` says the reason is gone (``"breaker"``, ``"auth"``).
    """

    offsets: Offsets
    rewind: Offsets = field(default_factory=dict)
    hold: str | None = None


class Work(Protocol):
    """What one service does with the due records of a poll."""

    def handle(self, messages: Sequence[Message], *, delivery: Delivery, now: datetime) -> Handled:
        """Process the poll's due records in order; produce every outcome through ``delivery``."""
        ...

    def probe(self) -> bool:
        """While the loop holds consumption: True once the reason is gone (may call a target)."""
        ...

    def close(self) -> None:
        """Release what the work holds, after the clients closed."""
        ...
