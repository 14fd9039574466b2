"""Async clients for Dataverse and SAP S/4HANA sharing one API-budget governor per credential."""
