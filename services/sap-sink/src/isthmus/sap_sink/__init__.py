"""sap-sink: S/4HANA commands from Kafka, executed idempotently and in per-key order."""
