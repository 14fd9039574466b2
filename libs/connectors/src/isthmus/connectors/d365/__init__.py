"""Async Dataverse Web API client: MSAL auth, CRUD, upsert, paging, change tracking, $batch."""

from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.d365.settings import D365Settings

__all__ = ["D365Settings", "DataverseClient"]
