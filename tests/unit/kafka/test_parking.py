"""Parked-key bookkeeping and the replay marks kept in committed offsets."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.kafka.parking import ParkedKeys
from isthmus.kafka.replay_marks import ReplayMarks

pytestmark = pytest.mark.unit


def test_only_the_head_of_a_parked_key_may_be_processed_and_release_frees_the_next() -> None:
    keys = ParkedKeys()
    assert keys.may_process(b"A", "t/0/1")
    assert keys.park(b"A", "t/0/1")
    assert keys.park(b"A", "t/0/2")
    assert not keys.park(b"A", "t/0/2")  # parking twice changes nothing
    assert keys.may_process(b"A", "t/0/1")
    assert not keys.may_process(b"A", "t/0/2")
    assert keys.may_process(b"B", "t/0/3")  # other keys flow
    assert keys.may_process(None, "t/0/4")  # records without a key are never parked
    assert keys.release(b"A", "t/0/1")
    assert keys.may_process(b"A", "t/0/2")
    assert keys.release(b"A", "t/0/2")
    assert not keys.holds(b"A", "t/0/2")
    assert keys.record(b"A", "t/0/2") == (b"t\x00A", None)  # the tombstone


def test_order_is_kept_per_source_topic_not_across_topics() -> None:
    keys = ParkedKeys()
    assert keys.park(b"SO-1", "orders.deliveries/0/7")  # a delivery waits for its order
    assert keys.may_process(b"SO-1", "orders.commands/3/2")  # the order's create is not held
    assert not keys.may_process(b"SO-1", "orders.deliveries/0/8")
    assert keys.holds(b"SO-1", "orders.deliveries/1/1")
    assert not keys.holds(b"SO-1", "orders.commands/0/1")


def test_the_parked_topic_encoding_restores_the_same_state() -> None:
    keys = ParkedKeys()
    keys.park(b"A", "t/0/1")
    keys.park(b"A", "t/0/9")
    stream, queue = keys.record(b"A", "t/0/9")
    assert stream == b"t\x00A"
    restored = ParkedKeys()
    restored.apply(stream, queue)
    restored.apply(b"t\x00B", b'["t/1/1"]')
    restored.apply(b"t\x00B", None)
    restored.apply(b"t\x00C", b"not json")
    restored.apply(b"D", b'["t/1/2"]')  # not keyed by stream: not ours
    assert restored.queue(b"A", "t/0/1") == ["t/0/1", "t/0/9"]
    assert len(restored) == 1


@given(st.lists(st.integers(0, 200), max_size=60), st.lists(st.integers(0, 200), max_size=60))
def test_replay_marks_remember_exactly_the_replayed_offsets(
    first: list[int], second: list[int]
) -> None:
    marks = ReplayMarks.parse(committed=-1001, metadata=None).add(first)
    marks = ReplayMarks.parse(committed=marks.committed, metadata=marks.metadata()).add(second)
    replayed = set(first) | set(second)
    assert {o for o in range(202) if marks.replayed(o)} == replayed
    assert marks.committed == next(o for o in range(202) if o not in replayed)
