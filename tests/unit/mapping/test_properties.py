"""Property tests: total mapping, lookups that never invent, date round trips, exact decimals."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.mapping import (
    FlowDefinitionError,
    InMemoryLookups,
    MappingError,
    load_flows,
    load_tables,
)
from isthmus.mapping.expressions.compiler import Environment, compile_expression
from isthmus.mapping.expressions.parser import parse
from isthmus.mapping.expressions.scope import Scope
from isthmus.schemas import SchemaCatalogue

REPO = Path(__file__).resolve().parents[3]
FLOWS = load_flows(REPO / "flows")
CATALOGUE = SchemaCatalogue.load(REPO / "schemas")
SOURCE_SCHEMAS = {
    "d365.salesorder.events": "io.isthmus.d365.SalesOrderEvent",
    "d365.account.events": "io.isthmus.d365.AccountEvent",
    "d365.shipment.events": "io.isthmus.d365.ShipmentConfirmationEvent",
    "d365.invoice.events": "io.isthmus.d365.InvoiceEvent",
    "s4.salesorder.events": "io.isthmus.s4.SalesOrderEvent",
    "s4.businesspartner.events": "io.isthmus.s4.BusinessPartnerEvent",
    "s4.product.events": "io.isthmus.s4.ProductEvent",
    "s4.materialstock.events": "io.isthmus.s4.MaterialStockEvent",
    "s4.billingdocument.events": "io.isthmus.s4.BillingDocumentEvent",
}
TABLES = load_tables(REPO / "flows" / "lookups")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UTC = dt.UTC


def evaluate(expression: str, record: Any) -> Any:
    evaluator = compile_expression(expression, env=Environment(tables=TABLES))
    return evaluator(Scope(current=record, root=record, lookups=InMemoryLookups()))


def avro_values(schema: Any, named: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    """Values valid for a fastavro-parsed schema (named types resolved in definition order)."""
    named = {} if named is None else named
    if isinstance(schema, list):
        return st.one_of([avro_values(option, named) for option in schema])
    if isinstance(schema, str):
        return named[schema] if schema in named else _primitive(schema)
    logical = _logical(schema)
    return logical if logical is not None else _complex(schema, named)


def _complex(schema: dict[str, Any], named: dict[str, Any]) -> st.SearchStrategy[Any]:
    kind = schema["type"]
    if kind == "record":
        fields: dict[str, st.SearchStrategy[Any]] = {}
        strategy = st.deferred(lambda: st.fixed_dictionaries(fields))
        named[schema["name"]] = strategy
        for field in schema["fields"]:
            fields[field["name"]] = avro_values(field["type"], named)
        return strategy
    if kind == "enum":
        symbols: st.SearchStrategy[Any] = st.sampled_from(schema["symbols"])
        named[schema["name"]] = symbols
        return symbols
    if kind == "array":
        return st.lists(avro_values(schema["items"], named), max_size=3)
    if kind == "map":
        return st.dictionaries(
            st.text(max_size=5), avro_values(schema["values"], named), max_size=3
        )
    return avro_values(kind, named)


def _primitive(kind: str) -> st.SearchStrategy[Any]:
    return {
        "null": st.none(),
        "boolean": st.booleans(),
        "int": st.integers(-(2**31), 2**31 - 1),
        "long": st.integers(-(2**63), 2**63 - 1),
        "float": st.floats(allow_nan=False, allow_infinity=False, width=32),
        "double": st.floats(allow_nan=False, allow_infinity=False),
        "string": st.text(max_size=12)
        | st.sampled_from(["", "0", "X", "2024-01-31", "EA", "US", "USD"]),
        "bytes": st.binary(max_size=8),
    }[kind]


def _logical(schema: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    logical = schema.get("logicalType")
    if logical == "decimal":
        scale = schema.get("scale", 0)
        limit = 10 ** (schema["precision"] - scale) - 1
        return st.decimals(min_value=-limit, max_value=limit, places=scale, allow_nan=False)
    if logical == "date":
        return st.dates(dt.date(1970, 1, 1), dt.date(2100, 1, 1))
    if logical == "timestamp-millis":
        moments = st.datetimes(dt.datetime(1970, 1, 2), dt.datetime(2100, 1, 1))
        return moments.map(
            lambda moment: moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
        )
    if logical == "time-millis":
        return st.times().map(lambda moment: moment.replace(microsecond=0))
    return None


@pytest.mark.parametrize("flow_id", sorted(FLOWS))
def test_mapping_is_total_over_schema_valid_events(flow_id: str) -> None:
    flow = FLOWS[flow_id]
    schema = CATALOGUE.get(SOURCE_SCHEMAS[flow.trigger.topic]).parsed
    xref = InMemoryLookups({"account": {"a": "1"}, "salesorder": {"s": "2"}})

    @PROPERTY
    @given(avro_values(schema))
    def check(record: dict[str, Any]) -> None:
        with contextlib.suppress(MappingError):
            flow.matches(flow.trigger.event_types[0], record)
        result = flow.apply(record, xref)
        assert (result.target is None) == bool(result.violations)

    check()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@PROPERTY
@given(st.dictionaries(st.sampled_from(["data", "envelope", "x"]), JSON, max_size=3))
def test_mapping_never_raises_even_on_malformed_records(record: dict[str, Any]) -> None:
    for flow in FLOWS.values():
        result = flow.apply(record, InMemoryLookups())
        assert (result.target is None) == bool(result.violations)


@PROPERTY
@given(
    pairs=st.dictionaries(
        st.text(min_size=1, max_size=4), st.text(min_size=1, max_size=4), max_size=4
    ),
    key=st.text(min_size=1, max_size=4),
    unit=st.sampled_from(["Piece", "Each", "Kilogram", "Barrel", "piece", ""]),
)
def test_lookups_never_invent_values(pairs: dict[str, str], key: str, unit: str) -> None:
    env = Environment(tables=TABLES)
    ports = InMemoryLookups({"account": pairs})
    record = {"id": key, "unit": unit}
    for expression, known in (
        ("xref('account', id)", pairs),
        ("lookup('uom', unit)", TABLES["uom"].forward),
    ):
        evaluator = compile_expression(expression, env=env)
        source = key if "xref" in expression else unit
        try:
            value = evaluator(Scope(current=record, root=record, lookups=ports))
        except MappingError:
            assert source not in known
        else:
            assert value == known[source]


@PROPERTY
@given(st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2200, 1, 1)))
def test_odata_datetime_round_trips_through_iso(moment: dt.datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    record = {"t": moment}
    odata = evaluate("odata_datetime(t)", record)
    assert evaluate("to_datetime(o)", {"o": odata}) == moment
    iso = evaluate("iso_datetime(o)", {"o": odata})
    assert evaluate("odata_datetime(i)", {"i": iso}) == odata
    assert evaluate("to_datetime(i)", {"i": iso}) == moment


@PROPERTY
@given(st.dates(dt.date(1900, 1, 1), dt.date(2200, 1, 1)))
def test_odata_date_round_trips(day: dt.date) -> None:
    odata = evaluate("odata_date(d)", {"d": day})
    assert evaluate("to_date(o)", {"o": odata}) == day
    assert evaluate("odata_date(iso_date(o))", {"o": odata}) == odata
    assert evaluate("to_date(sap_date(o))", {"o": odata}) == day


DECIMALS = st.decimals(min_value=-(10**12), max_value=10**12, places=6, allow_nan=False)


@PROPERTY
@given(a=DECIMALS, b=DECIMALS, values=st.lists(DECIMALS, max_size=8))
def test_decimal_arithmetic_is_exact(a: Decimal, b: Decimal, values: list[Decimal]) -> None:
    record = {"a": a, "b": b, "values": values, "fa": float(a)}
    with localcontext() as exact:
        exact.prec = 100
        assert evaluate("a + b - b", record) == a
        assert evaluate("a * b", record) == a * b
        assert evaluate("sum(values)", record) == sum(values, Decimal(0))
    assert evaluate("fa + 0", record) == Decimal(repr(float(a)))
    assert evaluate("round(a, 2)", record) == a.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=list("ab1.'\"()[]*$,+-=<>!&?: `_x"), max_size=24) | st.text(max_size=24))
def test_parser_only_raises_syntax_errors(text: str) -> None:
    try:
        tree = parse(text)
    except FlowDefinitionError:
        return
    try:
        evaluator = compile_expression(text, env=Environment(tables={}))
    except FlowDefinitionError:
        return
    with contextlib.suppress(MappingError):
        evaluator(Scope(current={"a": [1, "b"]}, root={}, lookups=InMemoryLookups()))
    assert tree is not None
