"""Provisioning plans: pure comparisons of the catalogue with a cluster snapshot."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from isthmus.kafka.catalogue import Catalogue, load_catalogue
from isthmus.kafka.provisioning import ClusterTopic, plan
from isthmus.kafka.strimzi import strimzi_topics

pytestmark = pytest.mark.unit


@pytest.fixture
def catalogue(repo_root: Path) -> Catalogue:
    return load_catalogue(repo_root / "deploy" / "topics.yaml")


def _as_cluster(catalogue: Catalogue) -> dict[str, ClusterTopic]:
    return {
        spec.name: ClusterTopic(
            name=spec.name,
            partitions=spec.partitions,
            replication_factor=1,
            config=spec.topic_config(replication_factor=1),
        )
        for spec in catalogue
    }


def test_empty_cluster_creates_everything(catalogue: Catalogue) -> None:
    result = plan(catalogue, {}, replication_factor=1)

    assert [c.action for c in result.changes] == ["create"] * len(catalogue)
    assert not result.refused


def test_matching_cluster_needs_nothing(catalogue: Catalogue) -> None:
    cluster = _as_cluster(catalogue)
    cluster["__consumer_offsets"] = ClusterTopic("__consumer_offsets", 50, 1, {})

    result = plan(catalogue, cluster, replication_factor=1)

    assert result.in_sync
    assert result.unmanaged == []


def test_growth_and_config_changes_are_planned(catalogue: Catalogue) -> None:
    cluster = _as_cluster(catalogue)
    cluster["audit.events"] = ClusterTopic("audit.events", 2, 1, {"cleanup.policy": "delete",
                                                                  "retention.ms": "1"})  # fmt: skip

    result = plan(catalogue, cluster, replication_factor=1)

    assert [(c.topic, c.action) for c in result.changes] == [
        ("audit.events", "add-partitions"),
        ("audit.events", "alter-config"),
    ]
    assert "retention.ms 1 -> 2592000000" in result.changes[1].detail


def test_shrinking_and_policy_changes_are_refused(catalogue: Catalogue) -> None:
    cluster = _as_cluster(catalogue)
    cluster["xref.ids"] = ClusterTopic("xref.ids", 12, 1, {"cleanup.policy": "delete"})

    result = plan(catalogue, cluster, replication_factor=1)

    assert len(result.refused) == 2
    assert "xref.ids: partitions 12 -> 6" in result.refused[0]
    assert "xref.ids: cleanup.policy delete -> compact" in result.refused[1]


def test_unmanaged_isthmus_topics_are_reported(catalogue: Catalogue) -> None:
    cluster = _as_cluster(catalogue)
    cluster["d365.legacy.events"] = ClusterTopic("d365.legacy.events", 1, 1, {})

    assert plan(catalogue, cluster, replication_factor=1).unmanaged == ["d365.legacy.events"]


def test_strimzi_manifests_cover_every_topic(catalogue: Catalogue) -> None:
    documents = list(yaml.safe_load_all(strimzi_topics(catalogue, cluster="prod")))

    assert len(documents) == len(catalogue)
    xref = next(d for d in documents if d["spec"]["topicName"] == "xref.ids")
    assert xref["kind"] == "KafkaTopic"
    assert xref["metadata"]["labels"]["strimzi.io/cluster"] == "prod"
    assert xref["spec"]["config"]["cleanup.policy"] == "compact"
    assert xref["spec"]["replicas"] == 3


def test_committed_strimzi_manifests_match_the_catalogue(
    catalogue: Catalogue, repo_root: Path
) -> None:
    committed = (repo_root / "deploy" / "k8s" / "kafka-topics.yaml").read_text()

    assert committed == strimzi_topics(catalogue, cluster="isthmus"), (
        "deploy/k8s/kafka-topics.yaml is stale: regenerate it with "
        "`uv run isthmus-dev topics strimzi > deploy/k8s/kafka-topics.yaml`"
    )
