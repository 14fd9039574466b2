"""Isthmus sink runtime: commands in, target calls out, outcomes to Kafka, in per-key order."""
