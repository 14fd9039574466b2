"""Test support for Isthmus: a pytest plugin with a real local Kafka broker per test session."""
