"""d365-sink: Dataverse commands from Kafka, upserted by alternate key in per-key order."""
