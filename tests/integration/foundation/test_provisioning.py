"""Provisioning the catalogue against the real broker: create, no-op, grow, refuse."""

from __future__ import annotations

from typing import Any

import pytest

from isthmus.kafka.catalogue import Catalogue, load_catalogue, parse_catalogue
from isthmus.kafka.errors import DestructiveChangeError
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.testing.kafka import Broker

pytestmark = pytest.mark.integration


def _catalogue(entries: list[dict[str, Any]]) -> Catalogue:
    defaults = {"replication_factor": 1, "retention_ms": 3_600_000, "cleanup_policy": "delete"}
    return parse_catalogue({"defaults": defaults, "topics": entries}, source="test")


def _entries(group: str, *, partitions: int = 2, policy: str = "compact") -> list[dict[str, Any]]:
    return [
        {"name": f"{group}.retry.5s", "partitions": partitions},
        {"name": f"{group}.parked", "partitions": 1, "cleanup_policy": policy, "key": "key",
         "value_schema": "io.isthmus.common.ParkedKey"},
    ]  # fmt: skip


def test_create_then_rerun_is_a_noop(kafka_broker: Broker, unique_name) -> None:
    provisioner = TopicProvisioner(admin=kafka_broker.admin())
    catalogue = _catalogue(_entries(unique_name("grp")))

    created = provisioner.apply(catalogue)
    again = provisioner.apply(catalogue)

    assert [c.action for c in created.changes] == ["create", "create"]
    assert again.changes == []
    snapshot = provisioner.snapshot()
    parked = next(spec for spec in catalogue if spec.name.endswith(".parked"))
    assert snapshot[parked.name].config["cleanup.policy"] == "compact"
    assert snapshot[parked.name].partitions == 1


def test_partition_increase_and_config_change_are_applied(
    kafka_broker: Broker, unique_name
) -> None:
    provisioner = TopicProvisioner(admin=kafka_broker.admin())
    group = unique_name("grp")
    provisioner.apply(_catalogue(_entries(group)))
    grown = _entries(group, partitions=4)
    grown[0]["retention_ms"] = 7_200_000

    applied = provisioner.apply(_catalogue(grown))

    assert sorted(c.action for c in applied.changes) == ["add-partitions", "alter-config"]
    retry = provisioner.snapshot()[f"{group}.retry.5s"]
    assert retry.partitions == 4
    assert retry.config["retention.ms"] == "7200000"
    assert provisioner.plan(_catalogue(grown)).in_sync


def test_destructive_changes_are_refused_and_change_nothing(
    kafka_broker: Broker, unique_name
) -> None:
    provisioner = TopicProvisioner(admin=kafka_broker.admin())
    group = unique_name("grp")
    provisioner.apply(_catalogue(_entries(group, partitions=3)))
    before = provisioner.snapshot()
    # Fewer partitions, a compacted topic turned into a deleting one, and a new topic that
    # would be harmless on its own: the whole plan is refused.
    wanted = [
        *_entries(group, partitions=1, policy="delete"),
        {"name": f"{group}.dlq", "partitions": 1},
    ]

    with pytest.raises(DestructiveChangeError) as caught:
        provisioner.apply(_catalogue(wanted))

    message = str(caught.value)
    assert f"{group}.retry.5s: partitions 3 -> 1" in message
    assert f"{group}.parked: cleanup.policy compact -> delete" in message
    assert "nothing was changed" in message
    after = provisioner.snapshot()
    assert f"{group}.dlq" not in after
    for name in (f"{group}.retry.5s", f"{group}.parked"):
        assert after[name] == before[name]


def test_shipped_catalogue_provisions_cleanly(kafka_broker: Broker, repo_root) -> None:
    provisioner = TopicProvisioner(admin=kafka_broker.admin())
    catalogue = load_catalogue(repo_root / "deploy" / "topics.yaml")

    provisioner.apply(catalogue, replication_factor=1)

    assert provisioner.plan(catalogue, replication_factor=1).in_sync
