"""Parked-stream bookkeeping, its ParkedStream records and the replay marks in offsets."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.parking import PARKED_SCHEMA, ParkedCodec, ParkedKeys
from isthmus.kafka.replay_marks import ReplayMarks
from isthmus.schemas import SchemaSettings, SerdeFactory

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


@pytest.fixture(scope="module")
def codec(repo_root: Path) -> ParkedCodec:
    """The parked topics' codec as the composition roots build it (single-object encoding)."""
    factory = SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas"))
    pair = factory.pair(value_schema=PARKED_SCHEMA)
    return ParkedCodec(serializer=pair.serializer, deserializer=pair.deserializer)


def test_every_parked_topic_of_the_catalogue_names_the_parked_stream_schema(
    repo_root: Path,
) -> None:
    catalogue = load_catalogue(repo_root / "deploy" / "topics.yaml")
    parked = [spec for spec in catalogue if spec.name.endswith(".parked")]
    assert {spec.name for spec in parked} == {
        "transformer.parked",
        "sap-sink.parked",
        "d365-sink.parked",
    }
    assert {spec.value_schema for spec in parked} == {PARKED_SCHEMA}


def test_a_stream_is_one_avro_record_of_its_queue_and_restores_the_same_state(
    codec: ParkedCodec,
) -> None:
    keys = ParkedKeys(group="g", codec=codec)
    keys.park(b"A", "t/0/1", retry_topic="g.retry.5s", now_ms=1_000)
    keys.park(b"A", "t/0/9", now_ms=2_000)
    stream, value = keys.record(b"A", "t/0/9", now_ms=3_000)
    assert stream == b"t\x00A"
    assert value is not None
    assert codec.deserializer(value, None) == {
        "consumerGroup": "g",
        "sourceTopic": "t",
        "key": "A",
        "origins": [
            {
                "sourcePartition": 0,
                "sourceOffset": 1,
                "retryTopic": "g.retry.5s",
                "parkedAt": datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
            },
            {
                "sourcePartition": 0,
                "sourceOffset": 9,
                "retryTopic": None,
                "parkedAt": datetime(1970, 1, 1, 0, 0, 2, tzinfo=UTC),
            },
        ],
        "updatedAt": datetime(1970, 1, 1, 0, 0, 3, tzinfo=UTC),
    }
    restored = ParkedKeys(group="g", codec=codec)
    restored.apply(stream, value)
    assert restored.queue(b"A", "t/0/1") == ["t/0/1", "t/0/9"]
    assert restored.record(b"A", "t/0/1", now_ms=3_000) == (stream, value)


def test_a_key_that_is_not_utf8_is_carried_as_bytes(codec: ParkedCodec) -> None:
    keys = ParkedKeys(group="g", codec=codec)
    keys.park(b"\xff\x00k", "t/2/5")
    stream, value = keys.record(b"\xff\x00k", "t/2/5")
    assert codec.deserializer(value, None)["key"] == b"\xff\x00k"
    restored = ParkedKeys(group="g", codec=codec)
    restored.apply(stream, value)
    assert restored.queue(b"\xff\x00k", "t/2/5") == ["t/2/5"]


def test_tombstones_free_streams_and_stray_records_are_skipped(codec: ParkedCodec) -> None:
    writer = ParkedKeys(group="g", codec=codec)
    writer.park(b"B", "t/1/1")
    stream_b, value_b = writer.record(b"B", "t/1/1")
    writer.park(b"C", "t/1/2")
    stream_c, value_c = writer.record(b"C", "t/1/2")
    restored = ParkedKeys(group="g", codec=codec)
    restored.apply(stream_b, value_b)
    restored.apply(stream_b, None)  # the tombstone frees the stream
    restored.apply(stream_c, value_c)
    restored.apply(stream_c, b'["t/1/3"]')  # the former JSON list does not decode: skipped
    restored.apply(b"t\x00D", b"not avro")
    restored.apply(b"D", value_c)  # not keyed by stream: not ours
    assert restored.queue(b"C", "t/1/2") == ["t/1/2"]
    assert len(restored) == 1


def test_without_a_codec_the_same_record_is_json() -> None:
    keys = ParkedKeys(group="g")
    keys.park(b"A", "t/0/1", now_ms=5)
    stream, value = keys.record(b"A", "t/0/1", now_ms=6)
    assert value is not None
    assert json.loads(value)["origins"][0]["sourceOffset"] == 1
    restored = ParkedKeys(group="g")
    restored.apply(stream, value)
    assert restored.queue(b"A", "t/0/1") == ["t/0/1"]


@given(st.lists(st.integers(0, 200), max_size=60), st.lists(st.integers(0, 200), max_size=60))
def test_replay_marks_remember_exactly_the_replayed_offsets(
    first: list[int], second: list[int]
) -> None:
    marks = ReplayMarks.parse(committed=-1001, metadata=None).add(first)
    marks = ReplayMarks.parse(committed=marks.committed, metadata=marks.metadata()).add(second)
    replayed = set(first) | set(second)
    assert {o for o in range(202) if marks.replayed(o)} == replayed
    assert marks.committed == next(o for o in range(202) if o not in replayed)
