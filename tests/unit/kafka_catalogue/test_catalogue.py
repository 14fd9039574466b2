"""The topic catalogue: the shipped file is valid and every kind of bad entry is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from isthmus.kafka.catalogue import (
    CleanupPolicy,
    TopicKind,
    load_catalogue,
    parse_catalogue,
    topic_kind,
)
from isthmus.kafka.errors import CatalogueError

pytestmark = pytest.mark.unit


def _entry(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": "d365.account.events",
        "partitions": 6,
        "replication_factor": 3,
        "cleanup_policy": "delete",
        "retention_ms": 604_800_000,
        "key": "accountid",
        "value_schema": "io.isthmus.d365.AccountEvent",
    }
    entry.update(overrides)
    return entry


def _errors(*entries: dict[str, Any]) -> str:
    with pytest.raises(CatalogueError) as caught:
        parse_catalogue({"topics": list(entries)}, source="topics.yaml")
    return str(caught.value)


def test_shipped_catalogue_is_valid_and_covers_every_kind(repo_root: Path) -> None:
    catalogue = load_catalogue(repo_root / "deploy" / "topics.yaml")

    kinds = {spec.kind for spec in catalogue}
    assert kinds == set(TopicKind)
    assert all(spec.cleanup_policy.compacts for spec in catalogue.of_kind(TopicKind.STATE))
    assert catalogue.get("xref.ids").cleanup_policy is CleanupPolicy.COMPACT
    assert sorted(spec.retry_delay_ms or 0 for spec in catalogue.of_kind(TopicKind.RETRY))[:2] == [
        10_000,
        10_000,
    ]


def test_defaults_fill_missing_fields() -> None:
    catalogue = parse_catalogue(
        {
            "defaults": {"partitions": 3, "replication_factor": 1, "cleanup_policy": "delete",
                         "retention_ms": 1000, "config": {"min.insync.replicas": "2"}},
            "topics": [{"name": "s4.product.events", "value_schema": "io.isthmus.s4.ProductEvent"}],
        },
        source="inline",
    )  # fmt: skip

    spec = catalogue.get("s4.product.events")
    assert (spec.partitions, spec.replication_factor, spec.retention_ms) == (3, 1, 1000)
    assert spec.topic_config(replication_factor=1)["min.insync.replicas"] == "1"


def test_unknown_cleanup_policy_is_named() -> None:
    message = _errors(_entry(cleanup_policy="compacted"))

    assert "topics[0] 'd365.account.events'" in message
    assert "cleanup_policy 'compacted' is not one of: delete, compact, compact,delete" in message


def test_compacted_topic_without_key_is_refused() -> None:
    message = _errors(
        _entry(name="state.d365.account", cleanup_policy="compact", key=None,
               value_schema="io.isthmus.common.EntityState")
    )  # fmt: skip

    assert "state.d365.account" in message
    assert "a compacted topic needs a 'key'" in message


def test_duplicate_names_point_to_the_first_declaration() -> None:
    message = _errors(_entry(), _entry(partitions=12))

    assert "topics[1] 'd365.account.events': duplicate name, first declared at topics[0]" in message


def test_name_outside_the_naming_rules_is_refused() -> None:
    message = _errors(_entry(name="orders"))

    assert "topics[0] 'orders': name must be <system>.<entity>.events" in message


def test_bad_retry_delay_is_refused() -> None:
    message = _errors(_entry(name="sap-sink.retry.soon", value_schema=None))

    assert "retry delay 'soon' must look like 500ms, 10s, 5m or 1h" in message


def test_value_schema_rules_per_kind() -> None:
    missing = _errors(_entry(value_schema=None))
    on_dlq = _errors(_entry(name="sap-sink.dlq"))

    assert "'value_schema' is required" in missing
    assert "retry and DLQ topics keep the source bytes" in on_dlq


def test_field_level_errors_are_all_listed() -> None:
    message = _errors(_entry(partitions=0, retention_ms=-5, colour="blue"))

    assert "partitions: Input should be greater than or equal to 1" in message
    assert "retention_ms: Input should be greater than or equal to -1" in message
    assert "colour: Extra inputs are not permitted" in message


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "topics.yaml"
    bad.write_text("topics: [\n")

    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(bad)
    with pytest.raises(CatalogueError, match="expected a mapping with a 'topics' list"):
        parse_catalogue(["x"], source="inline")
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("d365.salesorder.events", TopicKind.EVENTS),
        ("s4.salesorder.commands", TopicKind.COMMANDS),
        ("s4.salesorder.results", TopicKind.RESULTS),
        ("state.s4.businesspartner", TopicKind.STATE),
        ("sap-sink.retry.10s", TopicKind.RETRY),
        ("sap-sink.dlq", TopicKind.DLQ),
        ("sap-sink.parked", TopicKind.PARKED),
        ("ingress.checkpoints", TopicKind.CHECKPOINTS),
        ("xref.ids", TopicKind.XREF),
        ("reconcile.drift", TopicKind.DRIFT),
        ("audit.events", TopicKind.AUDIT),
    ],
)
def test_topic_kind_follows_the_naming_rules(name: str, kind: TopicKind) -> None:
    assert topic_kind(name) is kind


def test_unknown_system_is_not_an_events_topic() -> None:
    with pytest.raises(ValueError, match="systems: d365, s4"):
        topic_kind("sf.account.events")
