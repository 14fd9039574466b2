"""d365-sink commands (decoded Avro) to Dataverse upserts: key, body, state fields (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from isthmus.connectors.d365.keys import RecordKey

_COMMAND_ONLY = frozenset({"header", "action"})


@dataclass(frozen=True)
class Lookup:
    """A lookup column bound by a value that is not a key (a name, an ISO code).

    The executor finds the row's id with ``$filter=<column> eq '<value>'`` and binds it.
    """

    bind: str
    entity_set: str
    column: str
    value: str


@dataclass(frozen=True)
class Write:
    """One Dataverse write: entity set, key, body, lookups to resolve, and whether it may create."""

    entity_set: str
    key: RecordKey
    body: dict[str, Any]
    create: bool = True
    lookups: tuple[Lookup, ...] = ()
    lines: tuple[Write, ...] = ()
    """Child rows written with this one in one change set (an invoice's lines)."""
    create_only: Mapping[str, Any] = field(default_factory=dict)
    """Columns sent only when the row is created (not valid for update: the parent bind)."""

    @property
    def state_key(self) -> str:
        """The key on the state topic: the alternate key value (or the GUID)."""
        if isinstance(self.key, Mapping):
            return ",".join(str(v) for v in self.key.values())
        return str(self.key)


def value(v: Any) -> Any:
    """One value in Web API JSON: decimals as numbers, dates ISO-8601."""
    if isinstance(v, Decimal):
        return float(v) if v != v.to_integral_value() else int(v)
    if isinstance(v, datetime | date):
        return v.isoformat()
    return v


def _body(command: Mapping[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    skip = _COMMAND_ONLY | set(drop)
    return {k: value(v) for k, v in command.items() if v is not None and k not in skip}


def _bind(body: dict[str, Any], name: str, target: str | None) -> None:
    if target:
        body[f"{name}@odata.bind"] = target


def account(command: Mapping[str, Any]) -> Write:
    """Upsert an account by ``isthmus_s4businesspartner``; DEACTIVATE sets statecode 1.

    A known account (``accountid``) with ``header.writeFields`` gets only those columns.
    """
    fields = account_changes(command)
    if fields is not None:
        return fields
    body = _body(command, drop=("accountid", "isthmus_s4businesspartner", "isocurrencycode"))
    if command.get("action") == "DEACTIVATE":
        body.update({"statecode": 1, "statuscode": 2})
    partner = str(command["isthmus_s4businesspartner"])
    currency = _currency(command)
    if command.get("accountid"):  # known through xref.ids: update that account, link it
        body["isthmus_s4businesspartner"] = partner
        return Write("accounts", str(command["accountid"]), body, lookups=currency)
    return Write("accounts", {"isthmus_s4businesspartner": partner}, body, lookups=currency)


def account_changes(command: Mapping[str, Any]) -> Write | None:
    """The write of a change of a known account: the listed columns only (None: not such a case).

    An empty list is a write with an empty body: the executor leaves the account alone.
    """
    listed = (command.get("header") or {}).get("writeFields")
    if listed is None or not command.get("accountid"):
        return None
    names = [name for name in listed if name in command and name not in _ACCOUNT_KEYS]
    body = {name: value(command[name]) for name in names if name not in _NOT_COLUMNS}
    if "action" in names and command.get("action") == "DEACTIVATE":
        body.update({"statecode": 1, "statuscode": 2})
    currency = _currency(command) if "isocurrencycode" in names else ()
    return Write("accounts", str(command["accountid"]), body, lookups=currency)


_ACCOUNT_KEYS = frozenset({"header", "accountid"})
_NOT_COLUMNS = frozenset({"action", "isocurrencycode"})


def _currency(command: Mapping[str, Any]) -> tuple[Lookup, ...]:
    code = command.get("isocurrencycode")
    if not code:
        return ()
    return (Lookup("transactioncurrencyid", "transactioncurrencies", "isocurrencycode", code),)


def product(command: Mapping[str, Any]) -> Write:
    """Upsert a product by ``productnumber``; unit group and unit are looked up by name."""
    body = _body(
        command, drop=("productid", "productnumber", "defaultuomname", "defaultuomschedulename")
    )
    body["productnumber"] = command["productnumber"]
    lookups = []
    if command.get("defaultuomschedulename"):
        name = command["defaultuomschedulename"]
        lookups.append(Lookup("defaultuomscheduleid", "uomschedules", "name", name))
    if command.get("defaultuomname"):
        lookups.append(Lookup("defaultuomid", "uoms", "name", command["defaultuomname"]))
    if command.get("action") == "DEACTIVATE":
        body.update({"statecode": 1, "statuscode": 2})
    key = {"productnumber": str(command["productnumber"])}
    return Write("products", key, body, lookups=tuple(lookups))


def sales_order(command: Mapping[str, Any]) -> Write:
    """Write the S/4 number and status back to an existing order (never creates)."""
    body = _body(command, drop=("salesorderid", "message"))
    if command.get("message"):
        body["description"] = command["message"]
    return Write("salesorders", str(command["salesorderid"]), body, create=False)


def invoice(command: Mapping[str, Any]) -> Write:
    """Upsert an invoice by ``isthmus_s4billingdocument`` with its customer bound, and its lines."""
    body = _body(
        command,
        drop=(
            "isthmus_s4billingdocument",
            "customeraccountnumber",
            "salesorderid",
            "isocurrencycode",
            "invoice_details",
            "totalamount",
        ),
    )
    _bind(
        body,
        "customerid_account",
        f"/accounts(isthmus_s4businesspartner='{command['customeraccountnumber']}')",
    )
    if command.get("salesorderid"):
        _bind(body, "salesorderid", f"/salesorders({command['salesorderid']})")
    billing = str(command["isthmus_s4billingdocument"])
    lines = tuple(
        invoice_line(billing=billing, line=line, number=line.get("lineitemnumber") or n)
        for n, line in enumerate(command.get("invoice_details") or [], start=1)
    )
    key = {"isthmus_s4billingdocument": billing}
    return Write("invoices", key, body, lookups=_currency(command), lines=lines)


LINE_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:isthmus:invoicedetail")


def invoice_line(*, billing: str, line: Mapping[str, Any], number: int) -> Write:
    """One ``invoicedetails`` row under a GUID derived from billing document and line number.

    Dataverse creates a row under a given GUID on upsert, so a redelivery finds the same line
    instead of adding one. The product is bound by its ``productnumber`` key (or the line is a
    write-in with ``productdescription``); the unit is looked up by name.
    """
    body = _body(line, drop=("productnumber", "productdescription", "uomname"))
    body["lineitemnumber"] = number
    body["ispriceoverridden"] = True  # the price is S/4's, not the D365 price list's
    create_only: dict[str, Any] = {
        "invoiceid@odata.bind": f"/invoices(isthmus_s4billingdocument='{_quoted(billing)}')"
    }
    if line.get("productnumber"):
        product = _quoted(line["productnumber"])
        body["productid@odata.bind"] = f"/products(productnumber='{product}')"
    else:
        body["productdescription"] = line.get("productdescription") or f"line {number}"
        create_only["isproductoverridden"] = True
    uom = line.get("uomname")
    lookups = (Lookup("uomid", "uoms", "name", uom),) if uom else ()
    key = str(uuid.uuid5(LINE_IDS, f"{billing}/{number}"))
    return Write("invoicedetails", key, body, lookups=lookups, create_only=create_only)


def _quoted(text: str) -> str:
    return str(text).replace("'", "''")


def inventory(command: Mapping[str, Any]) -> Write:
    """Set a product's quantity on hand (update only: the product must exist)."""
    body = {"quantityonhand": value(command["quantityonhand"])}
    return Write("products", {"productnumber": str(command["productnumber"])}, body, create=False)


BUILDERS = {
    "account": account,
    "product": product,
    "salesorder": sales_order,
    "invoice": invoice,
    "inventory": inventory,
}


def with_binds(write: Write, ids: Mapping[Lookup, str]) -> Write:
    """The write with each resolved lookup bound by id (``<bind>@odata.bind``)."""
    body = dict(write.body)
    for lookup in write.lookups:
        body[f"{lookup.bind}@odata.bind"] = f"/{lookup.entity_set}({ids[lookup]})"
    lines = tuple(with_binds(line, ids) for line in write.lines)
    return replace(write, body=body, lookups=(), lines=lines)


def lookups_of(write: Write) -> tuple[Lookup, ...]:
    """The lookups of the write and of its lines."""
    return (*write.lookups, *(lookup for line in write.lines for lookup in line.lookups))


def state_fields(write: Write) -> dict[str, str | None]:
    """The written fields in normalised string form (binds left out)."""
    return {k: None if v is None else str(v) for k, v in write.body.items() if "@" not in k}
