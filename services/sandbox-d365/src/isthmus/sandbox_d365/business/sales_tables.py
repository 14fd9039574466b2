"""Sales tables (orders, invoices and their lines) and the webhook registry tables."""

from __future__ import annotations

from isthmus.sandbox_d365.business.tables import (
    INVOICE_STATES,
    ORDER_STATES,
    PAYMENT_TERMS,
    address_columns,
    cols,
    customer_lookup,
    line_columns,
    lookup,
    money_table,
    owner_lookups,
    system_columns,
    total_columns,
)
from isthmus.sandbox_d365.odata.schema import Collection, Column, Kind, Lookup, StateModel, Table

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
S4_STATUS = {
    1: "Sent to S/4",
    2: "Created in S/4",
    3: "Rejected by S/4",
    4: "Delivered",
    5: "Billed",
    # The S/4 processing status as flows/lookups/order_status.yaml writes it (publisher range).
    100000000: "Open in S/4",
    100000001: "In process in S/4",
    100000002: "Completed in S/4",
}


ENABLED = StateModel(states={0: "Enabled"}, statuses={1: (0, "Enabled")}, defaults={0: 1})
JOB_STATES = StateModel(
    states={0: "Ready", 1: "Suspended", 2: "Locked", 3: "Completed"},
    statuses={
        0: (0, "Waiting For Resources"),
        10: (1, "Waiting"),
        20: (2, "In Progress"),
        30: (3, "Succeeded"),
        31: (3, "Failed"),
        32: (3, "Canceled"),
    },
    defaults={0: 0, 1: 10, 2: 20, 3: 30},
)


def _registry_lookup(nav: str, target: str) -> Lookup:
    # The step's handler is polymorphic: attribute ``eventhandler``, nav ``eventhandler_<table>``.
    if nav.startswith("eventhandler_"):
        return Lookup("eventhandler", {nav: target})
    return lookup(nav, target)


def _header_columns() -> list[Column]:
    return [
        Column("name", S, max_length=300),
        Column("description", S, max_length=2000),
        Column("requestdeliveryby", DO),
        Column("discountamount", M),
        Column("discountpercentage", D),
        Column("freightamount", M),
        Column("paymenttermscode", C, options=PAYMENT_TERMS),
        Column("shippingmethodcode", C, options={1: "Airborne", 2: "DHL", 3: "FedEx"}),
        Column("freighttermscode", C, options={1: "FOB", 2: "No Charge"}),
        Column("ispricelocked", B, create=False),
        *address_columns("billto"),
        *address_columns("shipto"),
        *total_columns(),
    ]


def _header_lookups() -> dict[str, Lookup]:
    return {
        "customerid": customer_lookup("customerid"),
        "pricelevelid": lookup("pricelevelid", "pricelevel"),
        "transactioncurrencyid": lookup(
            "transactioncurrencyid", "transactioncurrency", update=False
        ),
    }


def salesorder() -> Table:
    """``salesorders`` with the Isthmus write-back columns."""
    return money_table(
        "salesorder",
        Column("ordernumber", S, max_length=100, update=False),
        Column("datefulfilled", DO),
        Column("submitdate", DO),
        Column("isthmus_s4salesorder", S, max_length=10),
        Column("isthmus_s4status", C, options=S4_STATUS),
        Column("isthmus_s4delivery", S, max_length=10),
        *_header_columns(),
        lookups=_header_lookups(),
        collections={
            "order_details": Collection("order_details", "salesorderdetail", "salesorderid")
        },
        alternate_keys=(("ordernumber",), ("isthmus_s4salesorder",)),
        states=ORDER_STATES,
        autonumber=("ordernumber", "ORD"),
    )


def invoice() -> Table:
    """``invoices`` with the S/4 billing document column."""
    return money_table(
        "invoice",
        Column("invoicenumber", S, max_length=100, update=False),
        Column("duedate", DO),
        Column("datedelivered", DO),
        Column("isthmus_s4billingdocument", S, max_length=10),
        *_header_columns(),
        lookups={**_header_lookups(), "salesorderid": lookup("salesorderid", "salesorder")},
        collections={
            "invoice_details": Collection("invoice_details", "invoicedetail", "invoiceid")
        },
        alternate_keys=(("invoicenumber",), ("isthmus_s4billingdocument",)),
        states=INVOICE_STATES,
        autonumber=("invoicenumber", "INV"),
    )


def _line(logical: str, parent: str) -> Table:
    return money_table(
        logical,
        Column(f"{logical}name", S, max_length=500),
        Column("requestdeliveryby", DO),
        Column("quantityshipped", D),
        *line_columns(),
        primary_name=f"{logical}name",
        lookups={
            f"{parent}id": lookup(f"{parent}id", parent, required=True, update=False),
            "productid": lookup("productid", "product"),
            "uomid": lookup("uomid", "uom"),
            "transactioncurrencyid": lookup(
                "transactioncurrencyid", "transactioncurrency", create=False, update=False
            ),
        },
    )


def lines() -> list[Table]:
    """``salesorderdetails`` and ``invoicedetails``."""
    return [
        _line("salesorderdetail", "salesorder"),
        _line("invoicedetail", "invoice"),
    ]


def _registry(logical: str, entity_set: str, name: str, *columns: Column, **lks: str) -> Table:
    states = JOB_STATES if logical == "asyncoperation" else ENABLED
    return Table(
        logical=logical,
        entity_set=entity_set,
        key=f"{logical}id",
        primary_name=name,
        columns=cols(Column(name, S, max_length=256), *columns, *system_columns(money=False)),
        lookups={
            **owner_lookups(),
            **{lk.name: lk for lk in (_registry_lookup(k, v) for k, v in lks.items())},
        },
        states=states,
    )


def registry() -> list[Table]:
    """The webhook registry: service endpoints, steps, messages, filters and system jobs."""
    return [
        _registry(
            "serviceendpoint",
            "serviceendpoints",
            "name",
            Column("contract", C, options={8: "Webhook"}),
            Column("url", S, max_length=2000),
            Column("authtype", C, options={4: "WebhookKey", 5: "HttpHeader", 6: "HttpQueryString"}),
            Column("authvalue", S, max_length=2048),
            Column("messageformat", C, options={1: "BinaryXML", 2: "Json", 3: "TextXML"}),
        ),
        _registry("sdkmessage", "sdkmessages", "name"),
        _registry(
            "sdkmessagefilter",
            "sdkmessagefilters",
            "name",
            Column("primaryobjecttypecode", S, max_length=100),
            sdkmessageid="sdkmessage",
        ),
        _registry(
            "sdkmessageprocessingstep",
            "sdkmessageprocessingsteps",
            "name",
            Column(
                "stage", C, options={10: "PreValidation", 20: "PreOperation", 40: "PostOperation"}
            ),
            Column("mode", C, options={0: "Synchronous", 1: "Asynchronous"}),
            Column("filteringattributes", S, max_length=100000),
            Column("rank", N),
            Column("asyncautodelete", B),
            Column("isthmus_images", S, max_length=20),
            eventhandler_serviceendpoint="serviceendpoint",
            sdkmessageid="sdkmessage",
            sdkmessagefilterid="sdkmessagefilter",
        ),
        _registry(
            "asyncoperation",
            "asyncoperations",
            "name",
            Column("operationtype", N),
            Column("message", S, max_length=10000),
            Column("friendlymessage", S, max_length=10000),
            Column("errorcode", N),
            Column("completedon", DT),
            Column("primaryentitytype", S, max_length=100),
            Column("regardingobjectid", S, max_length=36),
            owningextensionid="sdkmessageprocessingstep",
        ),
    ]
