"""SAP's pyodata client against the sandbox: every $metadata, filters, paging, deep insert."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pyodata
import pytest
import requests

from isthmus.testing.sandbox_s4 import SandboxS4

SERVICES = {
    "API_SALES_ORDER_SRV": "A_SalesOrder",
    "API_BUSINESS_PARTNER": "A_BusinessPartner",
    "API_PRODUCT_SRV": "A_Product",
    "API_MATERIAL_STOCK_SRV": "A_MatlStkInAcctMod",
    "API_OUTBOUND_DELIVERY_SRV": "A_OutbDeliveryHeader",
    "API_BILLING_DOCUMENT_SRV": "A_BillingDocument",
    "API_JOURNALENTRYITEMBASIC_SRV": "A_JournalEntryItemBasic",
}


@pytest.fixture
def session(sandbox_s4_clean: SandboxS4) -> Iterator[requests.Session]:
    http = requests.Session()
    http.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides `verify`
    http.auth = sandbox_s4_clean.basic_auth
    http.verify = str(sandbox_s4_clean.ca_file)
    yield http
    http.close()


def client(sandbox: SandboxS4, session: requests.Session, service: str) -> pyodata.Client:
    url = sandbox.service_url(service)
    fetched = session.head(url, headers={"X-CSRF-Token": "Fetch"})
    session.headers["X-CSRF-Token"] = fetched.headers["x-csrf-token"]
    return pyodata.Client(url, session)


def test_pyodata_loads_every_metadata_and_reads(
    sandbox_s4_clean: SandboxS4, session: requests.Session
) -> None:
    for service, entity_set in SERVICES.items():
        odata = client(sandbox_s4_clean, session, service)
        assert entity_set in [es.name for es in odata.schema.entity_sets]
        entities = getattr(odata.entity_sets, entity_set).get_entities().top(2).execute()
        assert len(entities) <= 2


def test_pyodata_filters_counts_and_follows_next(
    sandbox_s4_clean: SandboxS4, session: requests.Session
) -> None:
    partners = client(
        sandbox_s4_clean, session, "API_BUSINESS_PARTNER"
    ).entity_sets.A_BusinessPartner
    us = partners.get_entities().filter(
        "startswith(BusinessPartner,'1710') and BusinessPartnerIsBlocked eq false"
    )
    result = us.count(inline=True).execute()
    assert result.total_count == 3
    assert sorted(p.BusinessPartner for p in result) == ["17100001", "17100002", "17100004"]
    assert partners.get_entities().filter("BusinessPartner eq '17100003'").count().execute() == 1
    sandbox_s4_clean.admin.settings(page_size=3)
    seen: list[str] = []
    page = partners.get_entities().select("BusinessPartner").execute()
    while True:
        seen += [p.BusinessPartner for p in page]
        if not page.next_url:
            break
        page = partners.get_entities().next_url(page.next_url).execute()
    assert len(seen) == 8 == len(set(seen))
    stock = client(
        sandbox_s4_clean, session, "API_MATERIAL_STOCK_SRV"
    ).entity_sets.A_MatlStkInAcctMod
    rows = stock.get_entities().filter("Material eq 'TG11' and Plant eq '1710'").execute()
    assert [Decimal(r.MatlWrhsStkQtyInMatlBaseUnit) for r in rows] == [Decimal(500)]


def test_pyodata_deep_insert_sales_order(
    sandbox_s4_clean: SandboxS4, session: requests.Session
) -> None:
    orders = client(sandbox_s4_clean, session, "API_SALES_ORDER_SRV").entity_sets.A_SalesOrder
    created = (
        orders.create_entity()
        .set(
            SalesOrderType="OR",
            SalesOrganization="1710",
            DistributionChannel="10",
            OrganizationDivision="00",
            SoldToParty="17100002",
            PurchaseOrderByCustomer="PYODATA-1",
            to_Item=[
                {"Material": "TG11", "RequestedQuantity": "4", "RequestedQuantityUnit": "PC"},
                {"Material": "TG12", "RequestedQuantity": "1"},
            ],
        )
        .execute()
    )
    assert created.SalesOrder
    assert created.TotalNetAmount == "253.000"  # pyodata keeps the wire string
    read = orders.get_entity(SalesOrder=created.SalesOrder).expand("to_Item").execute()
    assert [i.Material for i in read.to_Item] == ["TG11", "TG12"]
    assert read.PurchaseOrderByCustomer == "PYODATA-1"
    posts = sandbox_s4_clean.admin.calls(method="POST", path_contains="A_SalesOrder")
    assert [c["status"] for c in posts] == [201]


def test_pyodata_batch_with_changeset(
    sandbox_s4_clean: SandboxS4, session: requests.Session
) -> None:
    odata = client(sandbox_s4_clean, session, "API_SALES_ORDER_SRV")
    orders = odata.entity_sets.A_SalesOrder
    batch = odata.create_batch()
    batch.add_request(orders.get_entities().top(1))
    changeset = odata.create_changeset()
    for po in ("BATCH-1", "BATCH-2"):
        changeset.add_request(
            orders.create_entity().set(
                SalesOrderType="OR",
                SalesOrganization="1010",
                DistributionChannel="10",
                OrganizationDivision="00",
                SoldToParty="10100002",
                PurchaseOrderByCustomer=po,
                to_Item=[{"Material": "TG12", "RequestedQuantity": "2"}],
            )
        )
    batch.add_request(changeset)
    listed, created = batch.execute()
    assert list(listed) == []
    assert [o.PurchaseOrderByCustomer for o in created] == ["BATCH-1", "BATCH-2"]
    assert orders.get_entities().count().execute() == 2
