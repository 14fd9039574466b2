"""Retry-tier selection, catalogue-driven names and error classification."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.errors import ErrorClass, InvalidRecordError, RetryableError, Stage
from isthmus.kafka.routing import Routes, classify, format_delay, routes_for
from isthmus.kafka.settings import ProcessorSettings
from isthmus.schemas import RegistryUnavailableError, UnknownFingerprintError

pytestmark = pytest.mark.unit


def test_a_record_climbs_the_tiers_in_order_then_goes_to_the_dlq() -> None:
    routes = Routes.from_delays(group="g", delays_ms=[2_000, 1_000])
    assert routes.retry_topics == ["g.retry.1s", "g.retry.2s"]
    first = routes.next_tier("s4.salesorder.commands")
    assert first is not None and first.topic == "g.retry.1s"
    second = routes.next_tier("g.retry.1s")
    assert second is not None and (second.topic, second.delay_ms) == ("g.retry.2s", 2_000)
    assert routes.next_tier("g.retry.2s") is None
    assert (routes.dlq, routes.parked) == ("g.dlq", "g.parked")


def test_without_tiers_a_retryable_record_goes_straight_to_the_dlq() -> None:
    assert Routes.from_delays(group="transformer", delays_ms=[]).next_tier("x") is None


def test_the_catalogue_gives_the_delays_and_a_test_group_gets_its_own_names(
    repo_root: Path,
) -> None:
    catalogue = load_catalogue(repo_root / "deploy" / "topics.yaml")
    production = Routes.from_catalogue(catalogue, group="sap-sink")
    assert production.retry_topics == [
        "sap-sink.retry.10s",
        "sap-sink.retry.1m",
        "sap-sink.retry.10m",
    ]
    assert all(catalogue.get(name) for name in production.all_topics())
    test = Routes.from_catalogue(catalogue, group="t-abc", template="sap-sink")
    assert [t.delay_ms for t in test.tiers] == [10_000, 60_000, 600_000]
    assert test.retry_topics[0] == "t-abc.retry.10s"
    configured = ProcessorSettings(group_id="t-abc", retry_template="d365-sink")
    assert routes_for(configured, catalogue=catalogue).retry_topics[0] == "t-abc.retry.10s"
    unset = ProcessorSettings(group_id="t-abc")
    by_service = routes_for(unset, catalogue=catalogue, service="sap-sink")
    assert [t.delay_ms for t in by_service.tiers] == [10_000, 60_000, 600_000]
    assert routes_for(unset, catalogue=catalogue).tiers == ()  # t-abc declares no tiers
    short = ProcessorSettings(group_id="t-abc", retry_delays_ms=(1_000, 2_000))
    assert routes_for(short, catalogue=catalogue).retry_topics == [
        "t-abc.retry.1s",
        "t-abc.retry.2s",
    ]


@pytest.mark.parametrize(
    ("delay", "name"),
    [
        (500, "500ms"),
        (1_000, "1s"),
        (60_000, "1m"),
        (600_000, "10m"),
        (3_600_000, "1h"),
        (1_500, "1500ms"),
    ],
)
def test_delays_are_spelled_as_the_catalogue_spells_them(delay: int, name: str) -> None:
    assert format_delay(delay) == name


def test_errors_are_classified_by_their_declared_class_then_by_stage() -> None:
    assert classify(RetryableError("503"), stage=Stage.HANDLE) is ErrorClass.RETRYABLE
    assert classify(InvalidRecordError("400"), stage=Stage.HANDLE) is ErrorClass.INVALID
    assert classify(UnknownFingerprintError("no such"), stage=Stage.DECODE) is ErrorClass.INVALID
    assert classify(RegistryUnavailableError("down"), stage=Stage.DECODE) is ErrorClass.RETRYABLE
    assert classify(ValueError("odd bytes"), stage=Stage.DECODE) is ErrorClass.INVALID
    assert classify(KeyError("bug"), stage=Stage.HANDLE) is ErrorClass.FATAL
