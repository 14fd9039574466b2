"""Retry records due early: awaited keys that arrived, parked records whose head has ended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from confluent_kafka import Message

from isthmus.kafka import failures
from isthmus.kafka import headers as h
from isthmus.kafka.errors import RetryableError
from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.waits import woken

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
TIER = "grp.retry.10s"


class Links:
    """A followed table: the set of its keys is all the ``Waits`` contract asks for."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)

    def satisfied(self, keys: Sequence[str]) -> bool:
        return all(key in self.keys for key in keys)


def _info(offset: int, error_class: str = "retryable") -> h.ErrorInfo:
    return failures.next_error_info(
        previous=None,
        error_class=error_class,
        message="prerequisite missing",
        stage="handle",
        topic="src",
        partition=0,
        offset=offset,
        now=NOW,
    )


def _retry_copy(offset: int, *, awaits: Sequence[str] = ()) -> Message:
    headers = failures.retry_headers(
        [("traceparent", b"00-abc")], info=_info(offset), due_ms=10**15, awaits=awaits
    )
    return _message(offset, headers)


def _parked_copy(offset: int, *, head: str) -> Message:
    headers = failures.parked_headers(
        [], info=_info(offset, failures.PARKED_CLASS), head=head, due_ms=10**15
    )
    return _message(offset, headers)


def _message(offset: int, headers: h.Headers) -> Message:
    wire: list[tuple[str, str | bytes | None]] = list(headers)
    return Message(topic=TIER, partition=0, offset=offset, key=b"so-1", headers=wire)


def test_a_record_awaiting_links_is_due_once_every_link_is_there() -> None:
    message = _retry_copy(7, awaits=["account:A", "product:s4:TG11"])
    assert failures.awaited(h.of(message)) == ["account:A", "product:s4:TG11"]
    parked = ParkedKeys()
    assert not woken(message, waits=Links(), parked=parked)
    assert not woken(message, waits=Links("account:A"), parked=parked)
    assert woken(message, waits=Links("account:A", "product:s4:TG11"), parked=parked)
    assert not woken(message, waits=None, parked=parked)  # no table followed: the timer decides


def test_a_timed_retry_is_never_due_early() -> None:
    assert not woken(_retry_copy(7), waits=Links("account:A"), parked=ParkedKeys())


def test_a_parked_record_is_due_once_the_head_it_waited_behind_ended() -> None:
    parked = ParkedKeys()
    parked.park(b"so-1", "src/0/7", retry_topic=TIER)
    parked.park(b"so-1", "src/0/8", retry_topic=TIER)
    follower = _parked_copy(8, head="src/0/7")
    assert not woken(follower, waits=Links(), parked=parked)
    parked.release(b"so-1", "src/0/7")
    assert woken(follower, waits=Links(), parked=parked)


def test_awaits_is_a_routing_header_the_next_copy_does_not_inherit() -> None:
    first = _retry_copy(7, awaits=["account:A"])
    again = failures.retry_headers(h.of(first), info=_info(7), due_ms=1)
    assert h.get(again, h.AWAITS) is None
    assert h.get(again, "traceparent") == b"00-abc"
    assert failures.awaited([(h.AWAITS, b"not json")]) == []


def test_a_retryable_error_carries_what_it_waits_for() -> None:
    error = RetryableError("account A not linked yet", awaits=["account:A"], topic="src")
    assert error.awaits == ("account:A",)
    assert error.topic == "src"
    assert RetryableError("503").awaits == ()
