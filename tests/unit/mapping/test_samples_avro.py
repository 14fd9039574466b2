"""The samples are valid source events, and a flow maps the decoded Avro value like the JSON."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pytest

from isthmus.mapping import InMemoryLookups, load_flows
from isthmus.schemas import SchemaCatalogue
from isthmus.schemas.projection import projected

REPO = Path(__file__).resolve().parents[3]
FLOWS = load_flows(REPO / "flows")
CATALOGUE = SchemaCatalogue.load(REPO / "schemas")
SOURCES = {
    "d365-salesorder-to-s4": ("d365-salesorder-created", "io.isthmus.d365.SalesOrderEvent"),
    "s4-salesorder-confirmation-to-d365": (
        "s4-salesorder-changed",
        "io.isthmus.s4.SalesOrderEvent",
    ),
    "d365-account-to-s4-businesspartner": ("d365-account-created", "io.isthmus.d365.AccountEvent"),
    "s4-businesspartner-to-d365-account": (
        "s4-businesspartner-changed",
        "io.isthmus.s4.BusinessPartnerEvent",
    ),
    "s4-product-to-d365": ("s4-product-changed", "io.isthmus.s4.ProductEvent"),
    "s4-materialstock-to-d365-inventory": (
        "s4-materialstock-changed",
        "io.isthmus.s4.MaterialStockEvent",
    ),
    "d365-shipment-to-s4-delivery": (
        "d365-shipment-confirmed",
        "io.isthmus.d365.ShipmentConfirmationEvent",
    ),
    "s4-billingdocument-to-d365-invoice": (
        "s4-billingdocument-created",
        "io.isthmus.s4.BillingDocumentEvent",
    ),
    "d365-invoice-to-s4-journalentry": ("d365-invoice-paid", "io.isthmus.d365.InvoiceEvent"),
}
XREF = InMemoryLookups(
    {
        "account": {"00000000-0000-0000-0000-000000000020": "17100001"},
        "salesorder": {"6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10": "4711"},
    }
)


def typed(value: Any, schema: Any, named: dict[str, Any]) -> Any:
    """A JSON sample value in the Python types fastavro uses for `schema`."""
    if isinstance(schema, list):
        options = [option for option in schema if option != "null"]
        return None if value is None else typed(value, options[0], named)
    if isinstance(schema, str):
        return typed(value, named[schema], named) if schema in named else value
    converted = _logical(value, schema.get("logicalType"))
    if converted is not None:
        return converted
    if schema["type"] in ("record", "enum"):
        named[schema["name"]] = schema
    if schema["type"] == "record":
        return {
            field["name"]: typed(value.get(field["name"]), field["type"], named)
            for field in schema["fields"]
        }
    if schema["type"] == "array":
        return [typed(item, schema["items"], named) for item in value]
    return value


def _logical(value: Any, logical: str | None) -> Any:
    if logical == "decimal":
        return Decimal(str(value))
    if logical == "date":
        return dt.date.fromisoformat(value)
    if logical == "timestamp-millis":
        return dt.datetime.fromisoformat(value)
    if logical == "time-millis":
        return dt.time.fromisoformat(value)
    return None


@pytest.mark.parametrize("flow_id", sorted(SOURCES))
def test_decoded_avro_event_maps_like_the_json_sample(flow_id: str) -> None:
    sample_name, schema_name = SOURCES[flow_id]
    sample = json.loads((REPO / "flows" / "samples" / f"{sample_name}.json").read_text())
    schema = CATALOGUE.get(schema_name).parsed
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema, typed(sample, schema, {}))
    decoded = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), schema, schema)
    assert isinstance(decoded, dict)
    flow = FLOWS[flow_id]
    assert flow.apply(decoded, XREF).target == flow.apply(sample, XREF).target
    assert flow.matches(decoded["envelope"]["message"], decoded)


@pytest.mark.parametrize("flow_id", sorted(SOURCES))
def test_event_decoded_with_only_the_paths_the_flow_reads_maps_the_same(flow_id: str) -> None:
    sample_name, schema_name = SOURCES[flow_id]
    sample = json.loads((REPO / "flows" / "samples" / f"{sample_name}.json").read_text())
    full = CATALOGUE.get(schema_name)
    flow = FLOWS[flow_id]
    assert flow.reads is not None
    reader = projected(full, flow.reads | {"envelope"})
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, full.parsed, typed(sample, full.parsed, {}))
    whole = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), full.parsed, full.parsed)
    part = fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), full.parsed, reader.parsed)
    assert isinstance(whole, dict)
    assert isinstance(part, dict)
    assert len(part["data"]) < len(whole["data"])  # something was left out
    assert flow.apply(part, XREF) == flow.apply(whole, XREF)
    assert flow.key(part, XREF) == flow.key(whole, XREF)
    assert flow.matches(part["envelope"]["message"], part)
