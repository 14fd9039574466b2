"""Render the topic catalogue as Strimzi ``KafkaTopic`` resources for Kubernetes."""

from __future__ import annotations

import yaml

from isthmus.kafka.catalogue import Catalogue


def strimzi_topics(catalogue: Catalogue, *, cluster: str) -> str:
    """Return one multi-document YAML string with a ``KafkaTopic`` per catalogue entry."""
    documents = []
    for spec in catalogue:
        documents.append(
            {
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaTopic",
                "metadata": {
                    "name": spec.name.replace(".", "-").replace("_", "-"),
                    "labels": {
                        "strimzi.io/cluster": cluster,
                        "app.kubernetes.io/part-of": "isthmus",
                    },
                    "annotations": {"isthmus.io/value-schema": spec.value_schema or "source"},
                },
                "spec": {
                    "topicName": spec.name,
                    "partitions": spec.partitions,
                    "replicas": spec.replication_factor,
                    "config": spec.topic_config(replication_factor=spec.replication_factor),
                },
            }
        )
    header = "# Generated from deploy/topics.yaml by `isthmus-dev topics strimzi`; do not edit.\n"
    return header + yaml.safe_dump_all(documents, sort_keys=False)
