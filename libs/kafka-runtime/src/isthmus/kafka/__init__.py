"""Isthmus Kafka runtime: settings, topic catalogue, the processing loop, retry/DLQ, replay."""
