"""Fixtures building connector settings and clients against the running sandboxes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.d365 import D365Settings, DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.retry import RetryPolicy
from isthmus.testing.sandbox_d365 import ORG_URL, SandboxD365


def d365_settings(sandbox: SandboxD365, **overrides: object) -> D365Settings:
    """Settings pointing the Dataverse client (and MSAL) at the sandbox."""
    base: dict[str, object] = {
        "environment_url": sandbox.base_url,
        "scope": f"{ORG_URL}/.default",
        "tenant_id": sandbox.tenant_id,
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "authority_host": sandbox.base_url,
        "ca_bundle": sandbox.ca_file,
        "retry": RetryPolicy(deadline_seconds=30, initial_backoff_seconds=0.05),
    }
    base.update(overrides)
    return D365Settings.model_validate(base)


def own_governor(settings: D365Settings, limits: BudgetLimits | None = None) -> ApiGovernor:
    """A governor for one test (the process-wide one would outlive the test's event loop)."""
    return ApiGovernor(credential=f"test-{uuid.uuid4()}", limits=limits or settings.limits)


@pytest.fixture
async def dataverse(sandbox_d365_clean: SandboxD365) -> AsyncIterator[DataverseClient]:
    """A Dataverse client on a clean sandbox with its own governor and token provider."""
    settings = d365_settings(sandbox_d365_clean)
    client = DataverseClient.connect(
        settings=settings,
        governor=own_governor(settings),
        token_provider=TokenProvider(settings=settings),
    )
    async with client:
        yield client
