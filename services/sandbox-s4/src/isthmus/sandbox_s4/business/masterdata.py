"""Customizing the documents check against: sales areas, order types, prices, plants, companies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from isthmus.sandbox_s4.store import Store

SALES_ORG = "sales_org"  # name "1710" -> {"company_code", "currency", "plant", "shipping_point"}
ORDER_TYPE = "order_type"  # name "OR" -> {"description"}
PRICE = "price"  # name "1710/TG11" -> {"amount", "currency"}
COMPANY = "company_code"  # name "1710" -> {"currency", "tax_rate", "country"}
PLANT = "plant"  # name "1710" -> {"storage_location", "shipping_point", "company_code"}


@dataclass(frozen=True)
class SalesOrg:
    """A sales organisation with what documents derive from it."""

    name: str
    company_code: str
    currency: str
    plant: str
    shipping_point: str


@dataclass(frozen=True)
class Company:
    """A company code: currency and the flat output tax rate the sandbox applies."""

    name: str
    currency: str
    tax_rate: Decimal


class MasterData:
    """Read access to the customizing documents in the store."""

    def __init__(self, *, store: Store) -> None:
        self.store = store

    def _doc(self, kind: str, name: str) -> dict[str, Any] | None:
        return self.store.document(kind=kind, name=name)

    def sales_org(self, name: str) -> SalesOrg | None:
        """A sales organisation, or None when it does not exist."""
        doc = self._doc(SALES_ORG, name)
        if doc is None:
            return None
        return SalesOrg(
            name, doc["company_code"], doc["currency"], doc["plant"], doc["shipping_point"]
        )

    def order_type_exists(self, name: str) -> bool:
        """Whether a sales document type is defined."""
        return self._doc(ORDER_TYPE, name) is not None

    def price(self, *, sales_org: str, material: str) -> tuple[Decimal, str] | None:
        """Net price per base unit and its currency."""
        doc = self._doc(PRICE, f"{sales_org}/{material}")
        return None if doc is None else (Decimal(doc["amount"]), str(doc["currency"]))

    def company(self, name: str) -> Company | None:
        """A company code."""
        doc = self._doc(COMPANY, name)
        if doc is None:
            return None
        return Company(name, doc["currency"], Decimal(doc["tax_rate"]))

    def plant(self, name: str) -> dict[str, Any] | None:
        """A plant with its default storage location and shipping point."""
        return self._doc(PLANT, name)
