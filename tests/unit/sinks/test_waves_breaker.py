"""Pure parts of the sink runtime: per-key waves, the circuit breaker, failure classes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.connectors.errors import (
    AuthenticationError,
    DuplicateError,
    ServiceUnavailableError,
    ThrottledError,
    ValidationError,
)
from isthmus.kafka.catalogue import load_catalogue
from isthmus.sink.breaker import CircuitBreaker
from isthmus.sink.errors import FailureClass, failure_of
from isthmus.sink.topics import SinkTopics
from isthmus.sink.waves import waves


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers()), max_size=40))
def test_waves_keep_order_per_key_and_distinct_keys_per_wave(items):
    grouped = waves(items, key=lambda item: item[0])
    for wave in grouped:
        assert len({k for k, _ in wave}) == len(wave)
    flattened = [item for wave in grouped for item in wave]
    for key in "abcd":
        assert [i for i in flattened if i[0] == key] == [i for i in items if i[0] == key]


def test_breaker_opens_after_threshold_probes_and_closes():
    breaker = CircuitBreaker(threshold=3, open_s=1.0, max_open_s=4.0)
    assert not breaker.record_failure(now=0.0)
    assert not breaker.record_failure(now=0.1)
    assert breaker.record_failure(now=0.2)
    assert breaker.is_open and not breaker.probe_due(now=0.5)
    assert breaker.probe_due(now=1.3)
    breaker.start_probe()
    breaker.probe_failed(now=1.3)
    assert breaker.period_s == 2.0 and not breaker.probe_due(now=2.0)
    breaker.record_success()
    assert not breaker.is_open


def test_connector_errors_map_to_the_six_classes():
    assert failure_of(ThrottledError("slow", status=429)) is FailureClass.THROTTLED
    assert failure_of(ServiceUnavailableError("down", status=503)) is FailureClass.UNAVAILABLE
    assert failure_of(AuthenticationError("no", status=401)) is FailureClass.AUTH
    assert failure_of(DuplicateError("dup", status=412)) is FailureClass.CONFLICT
    assert failure_of(ValidationError("bad", status=400)) is FailureClass.VALIDATION
    assert FailureClass.THROTTLED.kafka_class == "retryable"
    assert FailureClass.VALIDATION.kafka_class == "invalid"


def test_topic_names_follow_the_catalogue():
    catalogue = load_catalogue(Path(__file__).parents[3] / "deploy" / "topics.yaml")
    topics = SinkTopics(system="s4", catalogue=catalogue, prefix="t.")
    assert topics.commands("salesorder") == "t.s4.salesorder.commands"
    assert topics.state("salesorder") == "t.state.s4.salesorder"
    assert topics.entity_of("t.s4.salesorder.commands") == "salesorder"
    assert topics.schema_of("t.s4.salesorder.results") == "io.isthmus.common.CommandResult"
    for foreign in ("t.d365.account.commands", "s4.salesorder.commands", "t.s4.salesorder.events"):
        with pytest.raises(ValueError, match="not a s4 command topic"):
            topics.entity_of(foreign)
