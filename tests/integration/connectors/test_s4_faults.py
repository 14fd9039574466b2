"""S/4 client under the sandbox's fault injection: CSRF expiry, duplicates, 503s, OAuth expiry."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.s4 import S4Client
from isthmus.connectors.s4.auth import OAuthClientCredentials
from isthmus.connectors.s4.errors import S4ValidationError
from isthmus.connectors.s4.idempotency import (
    create_business_partner_once,
    create_sales_order_once,
    find_sales_order,
)
from isthmus.testing.sandbox_s4 import SandboxS4

from .conftest import s4_settings, sales_order

pytestmark = [pytest.mark.integration, pytest.mark.anyio]
SO = "API_SALES_ORDER_SRV"


async def test_concurrent_creates_survive_csrf_expiry(
    s4: S4Client, sandbox_s4_clean: SandboxS4
) -> None:
    sandbox = sandbox_s4_clean
    # Tokens live 1 s; 50 creates through 8 CSRF sessions at 250 ms each take about 1.6 s, so
    # every session's token expires mid-run while each refetched token is used well within 1 s.
    sandbox.admin.settings(csrf_ttl_s=1.0)
    sandbox.admin.add_fault(kind="latency", path="*A_SalesOrder", method="POST", latency_ms=250)
    references = [f"CSRF-{i:02d}" for i in range(50)]
    created = await asyncio.gather(
        *(s4.create(SO, "A_SalesOrder", sales_order(ref)) for ref in references)
    )
    assert len({c.data["SalesOrder"] for c in created}) == 50
    for ref in references:
        rows = await s4.query(SO, "A_SalesOrder", filter=f"PurchaseOrderByCustomer eq '{ref}'")
        assert len(rows) == 1, ref
    refused = [c for c in sandbox.admin.calls(method="POST") if c["status"] == 403]
    assert refused, "the sandbox never refused a token: the test did not exercise expiry"


async def test_same_create_twice_yields_one_order(s4: S4Client) -> None:
    body = sales_order("DUP-1")
    first = await create_sales_order_once(s4, body=body)
    second = await create_sales_order_once(s4, body=body)
    assert first.created is True
    assert second.created is False
    assert first.entity.data["SalesOrder"] == second.entity.data["SalesOrder"]
    found = await find_sales_order(s4, purchase_order_by_customer="DUP-1", sold_to_party="17100001")
    assert found is not None
    assert len(await s4.query(SO, "A_SalesOrder", filter="PurchaseOrderByCustomer eq 'DUP-1'")) == 1


async def test_dropped_create_is_retried_without_duplicate(
    s4: S4Client, sandbox_s4_clean: SandboxS4
) -> None:
    sandbox_s4_clean.admin.add_fault(kind="drop", path="*A_SalesOrder", method="POST", count=2)
    outcome = await create_sales_order_once(s4, body=sales_order("DROP-1"))
    assert outcome.created is True
    rows = await s4.query(SO, "A_SalesOrder", filter="PurchaseOrderByCustomer eq 'DROP-1'")
    assert len(rows) == 1


async def test_business_partner_created_once(s4: S4Client) -> None:
    external = f"D365-{uuid.uuid4().hex[:8]}"
    body = {
        "BusinessPartnerCategory": "2",
        "BusinessPartnerGrouping": "BP02",
        "OrganizationBPName1": "Once Ltd",
        "BusinessPartnerIDByExtSystem": external,
        "to_BusinessPartnerRole": {"results": [{"BusinessPartnerRole": "FLCU01"}]},
    }
    first = await create_business_partner_once(s4, body=body)
    second = await create_business_partner_once(s4, body=body)
    assert (first.created, second.created) == (True, False)
    assert first.entity.data["BusinessPartner"] == second.entity.data["BusinessPartner"]


async def test_503_bursts_are_retried_and_validation_is_not(
    s4: S4Client, sandbox_s4_clean: SandboxS4
) -> None:
    admin = sandbox_s4_clean.admin
    admin.add_fault(kind="error", status=503, path="*A_SalesOrder", method="GET", count=3)
    assert await s4.query(SO, "A_SalesOrder", top=1) is not None
    admin.clear_faults()
    admin.clear_calls()
    with pytest.raises(S4ValidationError):
        await create_sales_order_once(s4, body=sales_order("INVALID-1", material="NO-SUCH"))
    assert len(admin.calls(method="POST", path_contains="A_SalesOrder")) == 1


async def test_oauth_token_expiry_refreshes_once(sandbox_s4_clean: SandboxS4) -> None:
    settings = s4_settings(
        sandbox_s4_clean,
        auth="oauth",
        client_id=sandbox_s4_clean.client_id,
        client_secret=sandbox_s4_clean.client_secret,
    )
    governor = ApiGovernor(credential=f"test-{uuid.uuid4()}", limits=settings.limits)
    async with S4Client.connect(settings=settings, governor=governor) as client:
        auth = client.http.auth
        assert isinstance(auth, OAuthClientCredentials)
        await client.query(SO, "A_SalesOrder", top=1)
        sandbox_s4_clean.admin.expire_tokens()
        await asyncio.gather(*(client.query(SO, "A_SalesOrder", top=1) for _ in range(10)))
        await client.create(SO, "A_SalesOrder", sales_order("OAUTH-1"))
    assert auth.token_requests == 2
