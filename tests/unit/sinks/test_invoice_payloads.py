"""The D365 invoice write carries its lines under stable GUIDs, with binds for create only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from isthmus.d365_sink.core import payloads as p


def _invoice(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "header": {},
        "isthmus_s4billingdocument": "90000007",
        "name": "Invoice",
        "customeraccountnumber": "1000001",
        "salesorderid": None,
        "isocurrencycode": "EUR",
        "invoice_details": lines,
    }


def _line(product: str | None, number: int | None = None) -> dict[str, Any]:
    return {
        "productnumber": product,
        "productdescription": None if product else "Freight",
        "quantity": Decimal("2.00000"),
        "priceperunit": Decimal("10.5000"),
        "uomname": "Primary Unit",
        "tax": None,
        "manualdiscountamount": None,
        "lineitemnumber": number,
    }


def test_lines_have_stable_ids_and_bind_their_invoice_only_on_create() -> None:
    write = p.invoice(_invoice([_line("TG11"), _line(None)]))
    again = p.invoice(_invoice([_line("TG11"), _line(None)]))
    assert [line.key for line in write.lines] == [line.key for line in again.lines]
    assert len({line.key for line in write.lines}) == 2
    first, freight = write.lines
    assert first.body["productid@odata.bind"] == "/products(productnumber='TG11')"
    assert first.body["quantity"] == 2 and first.body["priceperunit"] == 10.5
    assert first.body["lineitemnumber"] == 1
    assert "invoiceid@odata.bind" not in first.body
    assert first.create_only["invoiceid@odata.bind"] == (
        "/invoices(isthmus_s4billingdocument='90000007')"
    )
    assert freight.body["productdescription"] == "Freight"
    assert freight.create_only["isproductoverridden"] is True
    assert "invoice_details" not in write.body


def test_unit_lookups_of_lines_are_resolved_with_the_header() -> None:
    write = p.invoice(_invoice([_line("TG11", number=30)]))
    lookups = p.lookups_of(write)
    assert {lookup.entity_set for lookup in lookups} == {"transactioncurrencies", "uoms"}
    bound = p.with_binds(write, dict.fromkeys(lookups, "00000000-0000-0000-0000-000000000001"))
    assert bound.lines[0].body["uomid@odata.bind"].startswith("/uoms(")
    assert bound.lines[0].body["lineitemnumber"] == 30
    assert bound.lines[0].create_only == write.lines[0].create_only
