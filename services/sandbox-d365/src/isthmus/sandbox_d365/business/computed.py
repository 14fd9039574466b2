"""Calculated columns: auto numbers, names, line pricing and header totals."""

from __future__ import annotations

import secrets
import string

from isthmus.sandbox_d365.business.store import Row, Store
from isthmus.sandbox_d365.errors import INVALID_ARGUMENT, DataverseError
from isthmus.sandbox_d365.odata.schema import Table

LINE_PARENTS = {"salesorderdetail": "salesorder", "invoicedetail": "invoice"}
_ALPHABET = string.ascii_uppercase + string.digits


def auto_number(store: Store, table: Table) -> str | None:
    """``ORD-01001-B7C2X9`` style numbers: prefix, counter, random suffix."""
    if table.autonumber is None:
        return None
    _, prefix = table.autonumber
    counter = store.next_number(table.logical, start=1001)
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(6))
    return f"{prefix}-{counter:05d}-{suffix}"


def derive_row(store: Store, table: Table, row: Row) -> None:
    """Fill the columns Dataverse computes on every write of this row."""
    if table.logical == "contact":
        row["fullname"] = " ".join(p for p in (row.get("firstname"), row.get("lastname")) if p)
    currency_id = row.get("_transactioncurrencyid_value")
    if table.money and currency_id:
        currency = store.peek("transactioncurrency", currency_id)
        row["exchangerate"] = None if currency is None else currency.get("exchangerate", 1.0)
    if table.logical in LINE_PARENTS:
        _price_line(store, table, row)


def _price_line(store: Store, table: Table, row: Row) -> None:
    product_id = row.get("_productid_value")
    product = store.peek("product", product_id) if product_id else None
    if product is None and not row.get("isproductoverridden"):
        raise DataverseError(
            status=400,
            code=INVALID_ARGUMENT,
            message="An existing product line needs productid; use isproductoverridden=true "
            "and productdescription for a write-in product.",
        )
    if product is not None:
        row["productnumber"] = product.get("productnumber")
        if not row.get("_uomid_value"):
            row["_uomid_value"] = product.get("_defaultuomid_value")
    if not row.get("ispriceoverridden") and product is not None:
        row["priceperunit"] = _list_price(store, table, row, product)
    quantity = float(row.get("quantity") or 0.0)
    price = float(row.get("priceperunit") or 0.0)
    base = round(price * quantity, 2)
    row["baseamount"] = base
    discount = float(row.get("manualdiscountamount") or 0.0)
    row["extendedamount"] = round(base - discount + float(row.get("tax") or 0.0), 2)


def _list_price(store: Store, table: Table, row: Row, product: Row) -> float:
    parent_logical = LINE_PARENTS[table.logical]
    parent = store.peek(parent_logical, row.get(f"_{parent_logical}id_value") or "")
    price_level = None if parent is None else parent.get("_pricelevelid_value")
    for item in store.related("productpricelevel", "_productid_value", product.get("productid")):
        if (
            item.get("_pricelevelid_value") == price_level
            and item.get("_productid_value") == product.get("productid")
            and item.get("_uomid_value") in (row.get("_uomid_value"), None)
        ):
            return float(item.get("amount") or 0.0)
    return float(product.get("price") or 0.0)


def header_totals(store: Store, header: Table, row: Row, line_table: str) -> None:
    """Recalculate the money totals of an order or invoice from its lines."""
    lines = store.related(line_table, f"_{header.logical}id_value", row[header.key])
    line_amount = sum(
        float(x.get("baseamount") or 0) - float(x.get("manualdiscountamount") or 0) for x in lines
    )
    tax = sum(float(x.get("tax") or 0) for x in lines)
    discount = (
        float(row.get("discountamount") or 0)
        + line_amount * float(row.get("discountpercentage") or 0) / 100
    )
    less_freight = line_amount - discount
    row["totallineitemamount"] = round(line_amount, 2)
    row["totallineitemdiscountamount"] = round(
        sum(float(x.get("manualdiscountamount") or 0) for x in lines), 2
    )
    row["totaltax"] = round(tax, 2)
    row["totaldiscountamount"] = round(discount, 2)
    row["totalamountlessfreight"] = round(less_freight, 2)
    row["totalamount"] = round(less_freight + float(row.get("freightamount") or 0) + tax, 2)
