"""Outbound adapters of the ingress: Kafka producer, source readers, state and dedup loaders."""
