"""Seed data: currencies, units, a price list, products with prices, customers, contacts."""

from __future__ import annotations

import uuid
from typing import Any

from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.odata.refs import KeyRef


def sid(name: str) -> str:
    """A stable GUID for a seeded record, so tests and demos can address it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"isthmus-sandbox-d365:{name}"))


MESSAGES = ("Create", "Update", "Delete")
FILTER_TABLES = (
    "account",
    "contact",
    "product",
    "salesorder",
    "salesorderdetail",
    "invoice",
    "invoicedetail",
)
PRODUCTS = (
    ("TG11", "Trekking bike Gravel 11", 1199.0, 640.0),
    ("TG12", "City bike Comfort 7", 749.0, 390.0),
    ("HT-1000", "Notebook Basic 15", 956.0, 610.0),
    ("HT-1010", "Notebook Professional 15", 1999.0, 1300.0),
    ("HT-6100", "Beam Breaker B-1", 469.0, 210.0),
    ("MZ-FG-R100", "Road bike frame R100", 299.0, 150.0),
)
CUSTOMERS = (
    ("C-10001", "17100001", "Contoso Retail GmbH", "Berlin", "DE", ("Anna", "Schmidt")),
    ("C-10002", "17100002", "Fabrikam Bikes Ltd", "Manchester", "GB", ("Oliver", "Brown")),
    ("C-10003", "17100003", "Adventure Works Cycles", "Seattle", "US", ("Yvonne", "McKay")),
    ("C-10004", None, "Northwind Traders", "Lyon", "FR", ("Camille", "Martin")),
)


def _put(records: Records, entity_set: str, name: str, body: dict[str, Any], user: str) -> None:
    table = records.catalogue.by_set[entity_set]
    records.upsert(
        table, KeyRef(row_id=sid(name)), body, user_id=user, if_match=None, if_none_match=None
    )


def seed(records: Records, *, user_id: str) -> None:
    """Create (or refresh) the demo catalogue; idempotent."""
    with records.store.transaction():
        _registry(records, user_id)
        _units_and_prices(records, user_id)
        _products(records, user_id)
        _customers(records, user_id)
    records.drain()


def _registry(records: Records, user: str) -> None:
    for message in MESSAGES:
        for table in FILTER_TABLES:
            ensure_message_filter(records, message=message, table=table, user_id=user)


def ensure_message_filter(records: Records, *, message: str, table: str, user_id: str) -> str:
    """Upsert the ``sdkmessages`` row of ``message`` and its filter for ``table``; the filter id."""
    _put(records, "sdkmessages", f"message:{message}", {"name": message}, user_id)
    _put(
        records,
        "sdkmessagefilters",
        f"filter:{message}:{table}",
        {
            "name": f"{message} of {table}",
            "primaryobjecttypecode": table,
            "sdkmessageid@odata.bind": f"/sdkmessages({sid(f'message:{message}')})",
        },
        user_id,
    )
    return sid(f"filter:{message}:{table}")


def _units_and_prices(records: Records, user: str) -> None:
    _put(
        records,
        "transactioncurrencies",
        "currency:USD",
        {
            "currencyname": "US Dollar",
            "isocurrencycode": "USD",
            "currencysymbol": "$",
            "exchangerate": 1.0,
            "currencyprecision": 2,
        },
        user,
    )
    _put(
        records,
        "transactioncurrencies",
        "currency:EUR",
        {
            "currencyname": "Euro",
            "isocurrencycode": "EUR",
            "currencysymbol": "€",
            "exchangerate": 0.92,
            "currencyprecision": 2,
        },
        user,
    )
    _put(
        records,
        "uomschedules",
        "uomschedule:default",
        {"name": "Default Unit", "baseuomname": "Primary Unit"},
        user,
    )
    schedule = f"/uomschedules({sid('uomschedule:default')})"
    _put(
        records,
        "uoms",
        "uom:primary",
        {
            "name": "Primary Unit",
            "quantity": 1.0,
            "isschedulebaseuom": True,
            "uomscheduleid@odata.bind": schedule,
        },
        user,
    )
    _put(
        records,
        "uoms",
        "uom:box",
        {
            "name": "Box of 10",
            "quantity": 10.0,
            "isschedulebaseuom": False,
            "uomscheduleid@odata.bind": schedule,
            "baseuom@odata.bind": f"/uoms({sid('uom:primary')})",
        },
        user,
    )
    _put(
        records,
        "pricelevels",
        "pricelevel:default",
        {
            "name": "Default Price List (USD)",
            "begindate": "2025-01-01",
            "enddate": "2030-12-31",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({sid('currency:USD')})",
        },
        user,
    )


def _products(records: Records, user: str) -> None:
    for number, name, price, cost in PRODUCTS:
        _put(
            records,
            "products",
            f"product:{number}",
            {
                "productnumber": number,
                "name": name,
                "quantitydecimal": 0,
                "price": price,
                "standardcost": cost,
                "currentcost": cost,
                "productstructure": 1,
                "producttypecode": 1,
                "quantityonhand": 250.0,
                "defaultuomscheduleid@odata.bind": f"/uomschedules({sid('uomschedule:default')})",
                "defaultuomid@odata.bind": f"/uoms({sid('uom:primary')})",
                "pricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
            },
            user,
        )
        _put(
            records,
            "productpricelevels",
            f"price:{number}",
            {
                "amount": price,
                "pricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
                "productid@odata.bind": f"/products({sid(f'product:{number}')})",
                "uomid@odata.bind": f"/uoms({sid('uom:primary')})",
            },
            user,
        )


def _customers(records: Records, user: str) -> None:
    for number, partner, name, city, country, (first, last) in CUSTOMERS:
        _put(
            records,
            "accounts",
            f"account:{number}",
            {
                "name": name,
                "accountnumber": number,
                "isthmus_s4businesspartner": partner,
                "address1_city": city,
                "address1_country": country,
                "paymenttermscode": 1,
                "emailaddress1": f"orders@{name.split()[0].lower()}.example",
                "defaultpricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
            },
            user,
        )
        _put(
            records,
            "contacts",
            f"contact:{number}",
            {
                "firstname": first,
                "lastname": last,
                "jobtitle": "Purchasing Manager",
                "annualincome": 52000.0,
                "emailaddress1": f"{first}.{last}@{name.split()[0]}.example".lower(),
                "parentcustomerid_account@odata.bind": f"/accounts({sid(f'account:{number}')})",
            },
            user,
        )
