"""Entra ID emulation: app registrations, discovery documents, signing keys and access tokens."""
