"""Isthmus Avro catalogue and serializers."""
