"""Adapters of the transformer: Kafka-backed xref lookups, flow file reloading, HTTP probes."""
