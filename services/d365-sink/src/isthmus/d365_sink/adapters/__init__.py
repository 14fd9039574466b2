"""Outbound adapters of d365-sink: the Dataverse executor."""
