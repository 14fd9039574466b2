"""The seed catalogue: companies, sales areas, order types, customers, products, prices, stock."""

from __future__ import annotations

from typing import Any

COMPANIES: dict[str, dict[str, Any]] = {
    "1010": {"currency": "EUR", "tax_rate": "0.19", "country": "DE"},
    "1710": {"currency": "USD", "tax_rate": "0.00", "country": "US"},
}
SALES_ORGS: dict[str, dict[str, Any]] = {
    "1010": {"company_code": "1010", "currency": "EUR", "plant": "1010", "shipping_point": "1010"},
    "1710": {"company_code": "1710", "currency": "USD", "plant": "1710", "shipping_point": "1710"},
}
PLANTS: dict[str, dict[str, Any]] = {
    "1010": {"storage_location": "101A", "shipping_point": "1010", "company_code": "1010"},
    "1710": {"storage_location": "171A", "shipping_point": "1710", "company_code": "1710"},
}
ORDER_TYPES: dict[str, dict[str, Any]] = {
    "OR": {"description": "Standard Order"},
    "ZOR": {"description": "Large Order (approval above the large-order threshold)"},
    "ZCM": {"description": "Customer Order (best-practice demo type)"},
}
DISTRIBUTION_CHANNEL = "10"
DIVISION = "00"


def _customer(
    number: str,
    name: str,
    *,
    country: str,
    city: str,
    areas: tuple[str, ...],
    blocked: bool = False,
) -> dict[str, Any]:
    return {
        "BusinessPartner": number,
        "name": name,
        "country": country,
        "city": city,
        "sales_orgs": areas,
        "blocked": blocked,
    }


CUSTOMERS: list[dict[str, Any]] = [
    _customer("10100001", "Inlandskunde DE 1", country="DE", city="Berlin", areas=("1010",)),
    _customer("10100002", "Inlandskunde DE 2", country="DE", city="Hamburg", areas=("1010",)),
    _customer("17100001", "Domestic US Customer 1", country="US", city="New York", areas=("1710",)),
    _customer("17100002", "Domestic US Customer 2", country="US", city="Chicago", areas=("1710",)),
    _customer(
        "17100003",
        "Blocked US Customer 3",
        country="US",
        city="Denver",
        areas=("1710",),
        blocked=True,
    ),
    _customer(
        "17100004", "US Customer 4 (DE sales only)", country="US", city="Austin", areas=("1010",)
    ),
    _customer("USCU_S12", "Best Run Retail 12", country="US", city="Palo Alto", areas=("1710",)),
    _customer("USCU_S13", "Best Run Retail 13", country="US", city="San Jose", areas=("1710",)),
]

# material -> (description, base unit, product type, {sales org: price}, stock per plant)
PRODUCTS: dict[str, tuple[str, str, str, dict[str, str], str]] = {
    "TG11": (
        "Trading Good 11, PD, Reg. Trading",
        "PC",
        "HAWA",
        {"1010": "50.00", "1710": "55.00"},
        "500",
    ),
    "TG12": (
        "Trading Good 12, PD, Reg. Trading",
        "PC",
        "HAWA",
        {"1010": "30.00", "1710": "33.00"},
        "500",
    ),
    "MZ-FG-M550": ("M550 Bike", "PC", "FERT", {"1710": "1200.00"}, "80"),
    "MZ-FG-M500": ("M500 Bike", "PC", "FERT", {"1710": "950.00"}, "80"),
    "MZ-FG-C990": ("C990 Bike", "PC", "FERT", {"1710": "2300.00"}, "40"),
    "RM-STEEL": ("Steel Sheet 2mm", "KG", "ROH", {"1010": "2.40", "1710": "2.60"}, "10000"),
}
