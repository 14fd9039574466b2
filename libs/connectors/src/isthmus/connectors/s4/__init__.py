"""Async S/4HANA client: OData V2 with CSRF session pool, $batch, journal-entry SOAP call."""

from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.settings import S4Settings

__all__ = ["S4Client", "S4Settings"]
