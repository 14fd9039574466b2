"""Isthmus transformer: runs every enabled flow of flows/ on the Kafka runtime, exactly once."""
