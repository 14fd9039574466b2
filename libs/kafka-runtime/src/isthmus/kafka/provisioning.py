"""Bring a Kafka cluster in line with the topic catalogue, without ever losing data.

The work is split in two: ``plan`` is a pure comparison of the catalogue with a snapshot of the
cluster, and ``TopicProvisioner`` reads that snapshot and applies a plan through the
confluent-kafka AdminClient. A plan that contains any refused change is never applied in part.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
)

from isthmus.kafka.catalogue import Catalogue, TopicSpec
from isthmus.kafka.errors import DestructiveChangeError, ProvisioningError

logger = logging.getLogger(__name__)

_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class ClusterTopic:
    """What the cluster says about one topic."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str]


@dataclass(frozen=True)
class TopicChange:
    """One change the plan makes to one topic."""

    topic: str
    action: str  # create | add-partitions | alter-config
    detail: str
    spec: TopicSpec
    partitions: int = 0
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The outcome of comparing the catalogue with the cluster."""

    changes: list[TopicChange]
    refused: list[str]
    unmanaged: list[str]

    @property
    def in_sync(self) -> bool:
        """True when the cluster already matches the catalogue."""
        return not self.changes and not self.refused

    def drift_lines(self) -> list[str]:
        """Human-readable drift report: what differs and what provisioning would do about it."""
        lines = [f"{change.topic}: {change.detail}" for change in self.changes]
        lines += [f"REFUSED {problem}" for problem in self.refused]
        lines += [f"{name}: in the cluster but not in the catalogue" for name in self.unmanaged]
        return lines


def plan(
    catalogue: Catalogue,
    cluster: dict[str, ClusterTopic],
    *,
    replication_factor: int | None = None,
) -> Plan:
    """Compare the catalogue with the cluster.

    Args:
        catalogue: the desired topics.
        cluster: the cluster's topics by name (internal topics may be included; they are ignored).
        replication_factor: when set, overrides every entry's replication factor (a single-node
            development broker cannot hold three replicas).

    Returns:
        The changes to make, the changes refused because they would lose data or cannot be made
        by provisioning, and the Isthmus-looking topics that the catalogue does not declare.
    """
    changes: list[TopicChange] = []
    refused: list[str] = []
    for spec in catalogue:
        rf = replication_factor or spec.replication_factor
        wanted = spec.topic_config(replication_factor=rf)
        current = cluster.get(spec.name)
        if current is None:
            detail = f"create with {spec.partitions} partitions, RF {rf}"
            changes.append(_partitions_change(spec, "create", detail, config=wanted))
            continue
        refused += _refusals(spec, current, wanted, rf)
        changes += _updates(spec, current, wanted)
    declared = {spec.name for spec in catalogue}
    unmanaged = sorted(
        name for name in cluster if name not in declared and not name.startswith(("_", "__"))
    )
    return Plan(changes=changes, refused=refused, unmanaged=unmanaged)


def _partitions_change(
    spec: TopicSpec, action: str, detail: str, *, config: dict[str, str] | None = None
) -> TopicChange:
    """A change that brings the topic to the spec's partition count (and ``config``, if given)."""
    return TopicChange(
        topic=spec.name,
        action=action,
        detail=detail,
        spec=spec,
        partitions=spec.partitions,
        config=config if config is not None else {},
    )


def _refusals(spec: TopicSpec, current: ClusterTopic, wanted: dict[str, str], rf: int) -> list[str]:
    problems = []
    if spec.partitions < current.partitions:
        problems.append(
            f"{spec.name}: partitions {current.partitions} -> {spec.partitions}: Kafka cannot "
            "remove partitions, and a new topic would lose the data and per-key order"
        )
    policy = current.config.get("cleanup.policy", "delete")
    if policy != wanted["cleanup.policy"]:
        problems.append(
            f"{spec.name}: cleanup.policy {policy} -> {wanted['cleanup.policy']}: changing how "
            "records are retained would drop history or latest state; migrate to a new topic"
        )
    if current.replication_factor != rf:
        problems.append(
            f"{spec.name}: replication factor {current.replication_factor} -> {rf}: needs a "
            "partition reassignment (kafka-reassign-partitions), which provisioning does not do"
        )
    return problems


def _updates(spec: TopicSpec, current: ClusterTopic, wanted: dict[str, str]) -> list[TopicChange]:
    updates = []
    if spec.partitions > current.partitions:
        detail = f"partitions {current.partitions} -> {spec.partitions}"
        updates.append(_partitions_change(spec, "add-partitions", detail))
    differing = {
        key: value
        for key, value in wanted.items()
        if key != "cleanup.policy" and current.config.get(key) != value
    }
    if differing:
        detail = ", ".join(
            f"{key} {current.config.get(key)} -> {value}"
            for key, value in sorted(differing.items())
        )
        updates.append(
            TopicChange(
                topic=spec.name, action="alter-config", detail=detail, spec=spec, config=differing
            )
        )
    return updates


class TopicProvisioner:
    """Reads the cluster's topics and applies plans through one AdminClient."""

    def __init__(self, *, admin: AdminClient) -> None:
        self._admin = admin

    def snapshot(self) -> dict[str, ClusterTopic]:
        """Return every topic in the cluster with its partition count, RF and topic config.

        Raises:
            ProvisioningError: the cluster did not answer.
        """
        try:
            metadata = self._admin.list_topics(timeout=_TIMEOUT_S)
            names = [name for name in metadata.topics if not name.startswith("__")]
            resources = [ConfigResource(ConfigResource.Type.TOPIC, name) for name in names]
            configs = self._admin.describe_configs(resources) if resources else {}
            described = {
                resource.name: {
                    entry.name: entry.value
                    for entry in future.result(timeout=_TIMEOUT_S).values()
                    if entry.value is not None
                }
                for resource, future in configs.items()
            }
        except KafkaException as exc:
            raise ProvisioningError(f"cannot read the cluster's topics: {exc}") from exc
        topics = {}
        for name in names:
            partitions = metadata.topics[name].partitions
            replicas = max((len(p.replicas) for p in partitions.values()), default=0)
            topics[name] = ClusterTopic(
                name=name,
                partitions=len(partitions),
                replication_factor=replicas,
                config=described.get(name, {}),
            )
        return topics

    def plan(self, catalogue: Catalogue, *, replication_factor: int | None = None) -> Plan:
        """Compare the catalogue with the live cluster (see ``plan``)."""
        return plan(catalogue, self.snapshot(), replication_factor=replication_factor)

    def apply(self, catalogue: Catalogue, *, replication_factor: int | None = None) -> Plan:
        """Create and update topics so the cluster matches the catalogue.

        Returns:
            The plan that was applied (empty when the cluster already matched).

        Raises:
            DestructiveChangeError: some change would lose data; nothing was changed.
            ProvisioningError: the cluster refused a change.
        """
        current = self.plan(catalogue, replication_factor=replication_factor)
        if current.refused:
            raise DestructiveChangeError(current.refused)
        creates = [c for c in current.changes if c.action == "create"]
        growths = [c for c in current.changes if c.action == "add-partitions"]
        alters = [c for c in current.changes if c.action == "alter-config"]
        if creates:
            self._create(creates, replication_factor=replication_factor)
        if growths:
            self._wait(
                self._admin.create_partitions(
                    [NewPartitions(c.topic, c.partitions) for c in growths]
                )
            )
        if alters:
            self._wait(self._admin.incremental_alter_configs([_alter(c) for c in alters]))
        for change in current.changes:
            logger.info("topic %s: %s", change.topic, change.detail)
        return current

    def _create(self, creates: list[TopicChange], *, replication_factor: int | None) -> None:
        new_topics = [
            NewTopic(
                change.topic,
                num_partitions=change.partitions,
                replication_factor=replication_factor or change.spec.replication_factor,
                config=change.config,
            )
            for change in creates
        ]
        self._wait(self._admin.create_topics(new_topics, operation_timeout=_TIMEOUT_S))
        self._await_metadata({change.topic for change in creates})

    def _await_metadata(self, names: set[str]) -> None:
        """Wait until new topics show in metadata, so a following read sees what was applied."""
        deadline = time.monotonic() + _TIMEOUT_S
        while time.monotonic() < deadline:
            topics = self._admin.list_topics(timeout=_TIMEOUT_S).topics
            if all(name in topics and topics[name].error is None for name in names):
                return
            time.sleep(0.1)
        raise ProvisioningError(f"created topics did not appear in metadata: {sorted(names)}")

    @staticmethod
    def _wait(futures: Mapping[Any, Future[Any]]) -> None:
        failures = []
        for target, future in futures.items():
            try:
                future.result(timeout=_TIMEOUT_S)
            except KafkaException as exc:
                failures.append(f"{getattr(target, 'name', target)}: {exc.args[0]}")
        if failures:
            raise ProvisioningError("the cluster refused: " + "; ".join(failures))


def _alter(change: TopicChange) -> ConfigResource:
    entries = [
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        for key, value in sorted(change.config.items())
    ]
    return ConfigResource(ConfigResource.Type.TOPIC, change.topic, incremental_configs=entries)
