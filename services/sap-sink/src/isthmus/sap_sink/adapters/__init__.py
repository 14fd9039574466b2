"""Outbound adapters of sap-sink: the S/4HANA executor."""
