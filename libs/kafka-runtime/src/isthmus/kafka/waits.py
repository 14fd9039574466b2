"""When a record in a retry topic is due before its retry delay is over.

A record that failed only because something it needs is not there yet (an ``xref.ids`` link,
say) is copied to its retry tier with the keys it waits for (``isthmus_awaits``); a record parked
behind the head of its key's queue carries ``isthmus_parked_behind``. The timed delay stays as
the safety net, but the loop does not sleep through it: such a record is due at once when

- every key it awaits is in the table its service follows (``Waits.satisfied``), or
- it was parked and its key's queue now starts with it (the head it waited behind has ended).

The check runs each time the loop looks at a paused retry partition, at most every
``poll_timeout_s``, so a prerequisite's arrival releases its waiters within one poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from confluent_kafka import Message

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.parking import ParkedKeys


class Waits(Protocol):
    """A followed table that can say whether awaited keys have arrived."""

    def satisfied(self, keys: Sequence[str]) -> bool:
        """True when every key is in the table."""
        ...


def woken(message: Message, *, waits: Waits | None, parked: ParkedKeys) -> bool:
    """True when the retry record ``message`` need not wait for its due time any longer."""
    headers = h.of(message)
    keys = failures.awaited(headers)
    if keys:
        return waits is not None and waits.satisfied(keys)
    key = message.key()
    if key is None or h.get(headers, h.PARKED_BEHIND) is None:
        return False
    info = h.read_error_info(headers)
    origin = failures.origin_of(
        info,
        topic=message.topic() or "",
        partition=message.partition() or 0,
        offset=message.offset() or 0,
    )
    return parked.may_process(key, origin)
