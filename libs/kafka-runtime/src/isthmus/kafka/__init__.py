"""Isthmus Kafka runtime: settings, the topic catalogue and its provisioning."""
