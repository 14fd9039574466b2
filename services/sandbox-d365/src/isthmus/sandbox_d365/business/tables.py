"""The tables the sandbox serves: order-to-cash, master data and the webhook registry."""

from __future__ import annotations

from collections.abc import Mapping

from isthmus.sandbox_d365.odata.schema import (
    Collection,
    Column,
    Kind,
    Lookup,
    StateModel,
    Table,
)

S, N, D, M, B, C, DT, DO = (
    Kind.STRING,
    Kind.INT,
    Kind.DECIMAL,
    Kind.MONEY,
    Kind.BOOL,
    Kind.CHOICE,
    Kind.DATETIME,
    Kind.DATE,
)

ACTIVE_INACTIVE = StateModel(
    states={0: "Active", 1: "Inactive"},
    statuses={1: (0, "Active"), 2: (1, "Inactive")},
    defaults={0: 1, 1: 2},
)
ORDER_STATES = StateModel(
    states={0: "Active", 1: "Submitted", 2: "Canceled", 3: "Fulfilled", 4: "Invoiced"},
    statuses={
        1: (0, "New"),
        2: (0, "Pending"),
        3: (1, "In Progress"),
        4: (2, "No Money"),
        100001: (3, "Complete"),
        100002: (3, "Partial"),
        100003: (4, "Invoiced"),
    },
    defaults={0: 1, 1: 3, 2: 4, 3: 100001, 4: 100003},
)
INVOICE_STATES = StateModel(
    states={0: "Active", 1: "Closed", 2: "Paid", 3: "Canceled"},
    statuses={
        1: (0, "New"),
        2: (0, "Partially Shipped"),
        4: (0, "Billed"),
        5: (0, "Booked (applies to services)"),
        6: (0, "Installed (applies to services)"),
        3: (1, "Canceled (deprecated)"),
        7: (1, "Paid in Full (deprecated)"),
        100001: (2, "Complete"),
        100002: (2, "Partial"),
        100003: (3, "Canceled"),
    },
    defaults={0: 1, 1: 7, 2: 100001, 3: 100003},
)
PRODUCT_STATES = StateModel(
    states={0: "Active", 1: "Retired", 2: "Draft", 3: "Under Revision"},
    statuses={1: (0, "Active"), 2: (1, "Retired"), 0: (2, "Draft"), 3: (3, "Under Revision")},
    defaults={0: 1, 1: 2, 2: 0, 3: 3},
)
PAYMENT_TERMS = {1: "Net 30", 2: "2% 10, Net 30", 3: "Net 45", 4: "Net 60"}
ADDRESS = ("line1", "line2", "line3", "city", "stateorprovince", "postalcode", "country")


def cols(*specs: Column) -> dict[str, Column]:
    return {c.name: c for c in specs}


def system_columns(*, money: bool) -> list[Column]:
    cols = [
        Column("createdon", DT, create=False, update=False),
        Column("modifiedon", DT, create=False, update=False),
        Column("versionnumber", N, create=False, update=False),
        Column("statecode", C, create=False),
        Column("statuscode", C),
    ]
    if money:
        cols.append(Column("exchangerate", D, create=False, update=False))
    return cols


def owner_lookups() -> dict[str, Lookup]:
    return {
        name: Lookup(name, {}, create=False, update=False)
        for name in ("ownerid", "createdby", "modifiedby")
    }


def lookup(name: str, target: str, **kw: bool) -> Lookup:
    return Lookup(name, {name: target}, **kw)


def customer_lookup(name: str, **kw: bool) -> Lookup:
    return Lookup(name, {f"{name}_account": "account", f"{name}_contact": "contact"}, **kw)


def address_columns(prefix: str) -> list[Column]:
    return [Column(f"{prefix}_{part}", S, max_length=250) for part in ADDRESS]


def total_columns() -> list[Column]:
    names = (
        "totalamount",
        "totalamountlessfreight",
        "totaldiscountamount",
        "totallineitemamount",
        "totallineitemdiscountamount",
        "totaltax",
    )
    return [Column(n, M, create=False, update=False) for n in names]


def line_columns() -> list[Column]:
    return [
        Column("quantity", D),
        Column("priceperunit", M),
        Column("ispriceoverridden", B),
        Column("isproductoverridden", B, update=False),
        Column("productdescription", S, max_length=500),
        Column("baseamount", M, create=False, update=False),
        Column("extendedamount", M, create=False, update=False),
        Column("manualdiscountamount", M),
        Column("tax", M),
        Column("lineitemnumber", N),
        Column("sequencenumber", N),
        Column("productnumber", S, create=False, update=False),
    ]


def money_table(
    logical: str,
    *columns: Column,
    lookups: Mapping[str, Lookup],
    primary_name: str = "name",
    collections: Mapping[str, Collection] | None = None,
    alternate_keys: tuple[tuple[str, ...], ...] = (),
    states: StateModel | None = None,
    autonumber: tuple[str, str] | None = None,
) -> Table:
    """A currency table ``<logical>s`` keyed by ``<logical>id``, with system and owner fields."""
    return Table(
        logical=logical,
        entity_set=f"{logical}s",
        key=f"{logical}id",
        primary_name=primary_name,
        columns=cols(*columns, *system_columns(money=True)),
        lookups={**owner_lookups(), **lookups},
        collections=collections or {},
        alternate_keys=alternate_keys,
        states=states,
        autonumber=autonumber,
        money=True,
    )


def account() -> Table:
    return money_table(
        "account",
        Column("name", S, max_length=160),
        Column("accountnumber", S, max_length=20),
        Column("emailaddress1", S, max_length=100),
        Column("telephone1", S, max_length=50),
        Column("websiteurl", S, max_length=200),
        Column("description", S, max_length=2000),
        Column("paymenttermscode", C, options=PAYMENT_TERMS),
        Column("creditlimit", M),
        Column("creditonhold", B),
        Column("isthmus_s4businesspartner", S, max_length=10),
        *address_columns("address1"),
        lookups={
            "primarycontactid": lookup("primarycontactid", "contact"),
            "parentaccountid": lookup("parentaccountid", "account"),
            "transactioncurrencyid": lookup("transactioncurrencyid", "transactioncurrency"),
            "defaultpricelevelid": lookup("defaultpricelevelid", "pricelevel"),
        },
        collections={
            "contact_customer_accounts": Collection(
                "contact_customer_accounts", "contact", "parentcustomerid"
            )
        },
        alternate_keys=(("accountnumber",), ("isthmus_s4businesspartner",)),
        states=ACTIVE_INACTIVE,
    )


def contact() -> Table:
    return money_table(
        "contact",
        Column("firstname", S, max_length=50),
        Column("lastname", S, max_length=50),
        Column("fullname", S, create=False, update=False),
        Column("jobtitle", S, max_length=100),
        Column("emailaddress1", S, max_length=100),
        Column("telephone1", S, max_length=50),
        Column("mobilephone", S, max_length=50),
        Column("annualincome", M),
        *address_columns("address1"),
        primary_name="fullname",
        lookups={
            "parentcustomerid": customer_lookup("parentcustomerid"),
            "transactioncurrencyid": lookup("transactioncurrencyid", "transactioncurrency"),
        },
        alternate_keys=(("firstname", "emailaddress1"),),
        states=ACTIVE_INACTIVE,
    )


def product() -> Table:
    return money_table(
        "product",
        Column("name", S, max_length=100, required=True),
        Column("productnumber", S, max_length=100, required=True),
        Column("description", S, max_length=2000),
        Column("quantitydecimal", N, required=True),
        Column("producttypecode", C, options={1: "Sales Inventory", 2: "Miscellaneous"}),
        Column("productstructure", C, options={1: "Product", 2: "Product Family", 3: "Bundle"}),
        Column("price", M),
        Column("standardcost", M),
        Column("currentcost", M),
        Column("quantityonhand", D),
        lookups={
            "defaultuomscheduleid": lookup("defaultuomscheduleid", "uomschedule", required=True),
            "defaultuomid": lookup("defaultuomid", "uom", required=True),
            "pricelevelid": lookup("pricelevelid", "pricelevel"),
            "transactioncurrencyid": lookup("transactioncurrencyid", "transactioncurrency"),
        },
        alternate_keys=(("productnumber",),),
        states=PRODUCT_STATES,
    )


def _simple(logical: str, entity_set: str, name: str, *columns: Column, **lookups: str) -> Table:
    return Table(
        logical=logical,
        entity_set=entity_set,
        key=f"{logical}id",
        primary_name=name,
        columns=cols(*columns, *system_columns(money=False)),
        lookups={**owner_lookups(), **{k: lookup(k, v) for k, v in lookups.items()}},
        states=ACTIVE_INACTIVE,
    )


def master_tables() -> list[Table]:
    return [
        _simple(
            "uomschedule",
            "uomschedules",
            "name",
            Column("name", S, max_length=200),
            Column("baseuomname", S, max_length=100),
        ),
        _simple(
            "uom",
            "uoms",
            "name",
            Column("name", S, max_length=100),
            Column("quantity", D),
            Column("isschedulebaseuom", B),
            uomscheduleid="uomschedule",
            baseuom="uom",
        ),
        _simple(
            "transactioncurrency",
            "transactioncurrencies",
            "currencyname",
            Column("currencyname", S, max_length=100),
            Column("isocurrencycode", S, max_length=5),
            Column("currencysymbol", S, max_length=10),
            Column("exchangerate", D),
            Column("currencyprecision", N),
        ),
        _simple(
            "pricelevel",
            "pricelevels",
            "name",
            Column("name", S, max_length=100),
            Column("begindate", DO),
            Column("enddate", DO),
            transactioncurrencyid="transactioncurrency",
        ),
        _simple(
            "productpricelevel",
            "productpricelevels",
            "productnumber",
            Column("amount", M),
            Column("productnumber", S, create=False, update=False),
            pricelevelid="pricelevel",
            productid="product",
            uomid="uom",
            transactioncurrencyid="transactioncurrency",
        ),
    ]
