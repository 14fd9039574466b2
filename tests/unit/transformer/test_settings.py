"""The transformer's processor defaults survive partial overrides from the environment."""

from __future__ import annotations

import pytest

from isthmus.kafka.clients import consumer_config, producer_config
from isthmus.transformer.settings import TransformerSettings


def test_exactly_once_with_range_assignment_and_a_batch_long_linger_by_default() -> None:
    settings = TransformerSettings()
    producer = producer_config(kafka=settings.kafka, processor=settings.processor)
    consumer = consumer_config(kafka=settings.kafka, processor=settings.processor)
    assert settings.processor.exactly_once
    assert producer["transactional.id"] == "transformer-0"
    assert producer["linger.ms"] == "50"
    assert consumer["partition.assignment.strategy"] == "range"


def test_one_processor_variable_keeps_the_other_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTHMUS_TRANSFORMER_PROCESSOR__GROUP_ID", "transformer-eu")
    monkeypatch.setenv("ISTHMUS_TRANSFORMER_PROCESSOR__PRODUCER_EXTRA", '{"acks": "all"}')
    processor = TransformerSettings().processor
    assert (processor.group_id, processor.exactly_once) == ("transformer-eu", True)
    assert processor.producer_extra == {"linger.ms": "50", "acks": "all"}


def test_an_explicit_linger_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTHMUS_TRANSFORMER_PROCESSOR__PRODUCER_EXTRA", '{"linger.ms": "5"}')
    assert TransformerSettings().processor.producer_extra == {"linger.ms": "5"}
