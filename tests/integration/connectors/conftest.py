"""Fixtures building connector settings and clients against the running sandboxes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest
from pydantic import BaseModel

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.d365 import D365Settings, DataverseClient
from isthmus.connectors.d365.auth import TokenProvider
from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.retry import RetryPolicy
from isthmus.connectors.s4 import S4Client, S4Settings
from isthmus.testing.sandbox_d365 import ORG_URL, SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4, sales_order_body

SettingsT = TypeVar("SettingsT", bound=BaseModel)


def _with_test_retry(model: type[SettingsT], **fields: object) -> SettingsT:
    """``model`` from ``fields``, retrying with a 30 s deadline unless ``fields`` name a policy."""
    retry = RetryPolicy(deadline_seconds=30, initial_backoff_seconds=0.05)
    return model.model_validate({"retry": retry, **fields})


def d365_settings(sandbox: SandboxD365, **overrides: object) -> D365Settings:
    """Settings pointing the Dataverse client (and MSAL) at the sandbox."""
    return _with_test_retry(
        D365Settings,
        environment_url=sandbox.base_url,
        scope=f"{ORG_URL}/.default",
        tenant_id=sandbox.tenant_id,
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        authority_host=sandbox.base_url,
        ca_bundle=sandbox.ca_file,
        **overrides,
    )


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


def s4_settings(sandbox: SandboxS4, **overrides: object) -> S4Settings:
    """Settings pointing the S/4 client at the sandbox (Basic auth unless overridden)."""
    return _with_test_retry(
        S4Settings,
        base_url=sandbox.base_url,
        sap_client="100",
        user=sandbox.user,
        password=sandbox.password,
        ca_bundle=sandbox.ca_file,
        **overrides,
    )


@pytest.fixture
async def s4(sandbox_s4_clean: SandboxS4) -> AsyncIterator[S4Client]:
    """An S/4 client on a clean sandbox with its own governor."""
    settings = s4_settings(sandbox_s4_clean)
    governor = ApiGovernor(credential=f"test-{uuid.uuid4()}", limits=settings.limits)
    async with S4Client.connect(settings=settings, governor=governor) as client:
        yield client


def sales_order(
    reference: str, *, sold_to: str = "17100001", material: str = "TG11"
) -> dict[str, object]:
    """A deep-insert sales order body for the seeded US sales area."""
    return sales_order_body(reference, (material, "2"), sold_to=sold_to)
