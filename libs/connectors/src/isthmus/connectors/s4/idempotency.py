"""Find-before-create for S/4 business documents, so a redelivered command creates nothing twice.

S/4HANA has no idempotency key on create. A sales order is recognised by its customer reference
(``PurchaseOrderByCustomer``) and sold-to party, a business partner by its external id
(``BusinessPartnerIDByExtSystem``). Each attempt looks first and creates only when nothing is
found; a create whose answer was lost (dropped connection, 502/504) is followed by another look,
never by a blind second POST. Callers in one process are serialised per reference.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from isthmus.connectors.retry import call_with_retries
from isthmus.connectors.s4.client import S4Client
from isthmus.connectors.s4.odata import S4Entity, v2_literal

SALES_ORDER_SERVICE = "API_SALES_ORDER_SRV"
BUSINESS_PARTNER_SERVICE = "API_BUSINESS_PARTNER"


@dataclass(frozen=True)
class CreateOutcome:
    """The document, and whether this call created it (False: it existed already)."""

    entity: S4Entity
    created: bool


_LOCKS: dict[tuple[str, ...], tuple[asyncio.Lock, list[int]]] = {}


@asynccontextmanager
async def _serialised(key: tuple[str, ...]) -> AsyncIterator[None]:
    """Hold the lock of ``key``; the lock is dropped once nobody holds or waits for it."""
    lock, users = _LOCKS.setdefault(key, (asyncio.Lock(), [0]))
    users[0] += 1
    try:
        async with lock:
            yield
    finally:
        users[0] -= 1
        if users[0] == 0:
            del _LOCKS[key]


async def _find_one(
    client: S4Client, service: str, entity_set: str, flt: str, key_field: str
) -> S4Entity | None:
    rows = await client.query(service, entity_set, filter=flt, top=1)
    if not rows:
        return None
    return await client.read(service, entity_set, str(rows[0][key_field]))


async def _create_once(
    client: S4Client,
    *,
    service: str,
    entity_set: str,
    body: Mapping[str, Any],
    flt: str,
    key_field: str,
) -> CreateOutcome:
    async def attempt(_retry: int) -> CreateOutcome:
        existing = await _find_one(client, service, entity_set, flt, key_field)
        if existing is not None:
            return CreateOutcome(entity=existing, created=False)
        return CreateOutcome(entity=await client.create(service, entity_set, body), created=True)

    async with _serialised((client.settings.credential_name, service, flt)):
        # Every attempt looks again first, so even a create whose answer was lost is retried.
        return await call_with_retries(attempt, policy=client.settings.retry, idempotent=True)


async def find_sales_order(
    client: S4Client, *, purchase_order_by_customer: str, sold_to_party: str
) -> S4Entity | None:
    """The sales order with this customer reference and sold-to party, if one exists."""
    flt = _sales_order_filter(purchase_order_by_customer, sold_to_party)
    return await _find_one(client, SALES_ORDER_SERVICE, "A_SalesOrder", flt, "SalesOrder")


def _sales_order_filter(reference: str, sold_to: str) -> str:
    reference_literal, sold_to_literal = v2_literal(reference), v2_literal(sold_to)
    return f"PurchaseOrderByCustomer eq {reference_literal} and SoldToParty eq {sold_to_literal}"


async def create_sales_order_once(client: S4Client, *, body: Mapping[str, Any]) -> CreateOutcome:
    """Create the sales order of ``body`` (deep insert) unless it exists already.

    Raises:
        ValueError: ``body`` lacks ``PurchaseOrderByCustomer`` or ``SoldToParty``.
        S4Error: the look-up or the create failed for good.
    """
    reference = body.get("PurchaseOrderByCustomer")
    sold_to = body.get("SoldToParty")
    if not reference or not sold_to:
        raise ValueError("an idempotent sales order needs PurchaseOrderByCustomer and SoldToParty")
    return await _create_once(
        client,
        service=SALES_ORDER_SERVICE,
        entity_set="A_SalesOrder",
        body=body,
        flt=_sales_order_filter(str(reference), str(sold_to)),
        key_field="SalesOrder",
    )


async def create_business_partner_once(
    client: S4Client, *, body: Mapping[str, Any]
) -> CreateOutcome:
    """Create the business partner of ``body`` unless one with its external id exists.

    Raises:
        ValueError: ``body`` lacks ``BusinessPartnerIDByExtSystem``.
        S4Error: the look-up or the create failed for good.
    """
    external = body.get("BusinessPartnerIDByExtSystem")
    if not external:
        raise ValueError("an idempotent business partner needs BusinessPartnerIDByExtSystem")
    return await _create_once(
        client,
        service=BUSINESS_PARTNER_SERVICE,
        entity_set="A_BusinessPartner",
        body=body,
        flt=f"BusinessPartnerIDByExtSystem eq {v2_literal(str(external))}",
        key_field="BusinessPartner",
    )
