"""d365-sink writes an invoice with its lines once: a redelivery leaves the same lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.sinks.conftest import account_upsert, create_entity_topics, header

pytestmark = pytest.mark.integration
INVOICE = "io.isthmus.d365.InvoiceUpsertCommand"


def _line(product: str, quantity: str, price: str) -> dict[str, Any]:
    return {
        "productnumber": product,
        "productdescription": None,
        "quantity": Decimal(quantity),
        "priceperunit": Decimal(price),
        "uomname": "Primary Unit",
        "tax": None,
        "manualdiscountamount": None,
        "lineitemnumber": None,
    }


def _invoice(billing: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "header": header(key=billing, reference=billing, flow="s4-billingdocument-to-d365-invoice"),
        "isthmus_s4billingdocument": billing,
        "name": f"Invoice {billing}",
        "customeraccountnumber": "9100010",
        "salesorderid": None,
        "isocurrencycode": "EUR",
        "duedate": date(2030, 1, 31),
        "datedelivered": None,
        "totalamount": None,
        "statecode": None,
        "statuscode": None,
        "invoice_details": lines,
    }


def test_invoice_with_three_lines_is_written_once(d365_sink, kafka_broker, sandbox_d365_clean):
    topic, results_topic, _state = create_entity_topics(d365_sink, "d365", "invoice")
    d365_sink.produce(
        [("9100010", account_upsert(partner="9100010", name="Invoiced", currency="EUR"))],
        schema="io.isthmus.d365.AccountUpsertCommand",
    )
    d365_sink.start(extra={"ISTHMUS_D365_SINK_SINK__ENTITIES": '["account", "invoice"]'})
    assert d365_sink.decode(d365_sink.topics.results, expected=1)  # the customer exists first
    lines = [_line("TG11", "2", "1100"), _line("TG12", "1", "700.5"), _line("HT-1000", "3", "900")]
    changed = [*lines[:2], _line("HT-1000", "4", "900")]
    serializer = d365_sink.factory.serializer(value_schema=INVOICE)
    producer = Producer(kafka_broker.settings.client_config())
    for value in (_invoice("90000001", lines), _invoice("90000001", changed)):
        ctx = SerializationContext(topic, MessageField.VALUE)
        producer.produce(topic, serializer(value, ctx), b"90000001")
    producer.flush(30)

    results = d365_sink.decode(results_topic, expected=2)
    assert [v["status"] for _, v in results] == ["SUCCEEDED", "SUCCEEDED"], [
        v["message"] for _, v in results
    ]
    with sandbox_d365_clean.api_client() as client:
        invoice = client.get(
            "invoices(isthmus_s4billingdocument='90000001')",
            params={"$expand": "invoice_details($select=quantity,priceperunit,productnumber)"},
        ).json()
    details = sorted(
        (d["productnumber"], Decimal(str(d["quantity"])), Decimal(str(d["priceperunit"])))
        for d in invoice["invoice_details"]
    )
    # three lines, not six: the second command updated the lines the first one created
    assert details == [
        ("HT-1000", Decimal(4), Decimal(900)),
        ("TG11", Decimal(2), Decimal(1100)),
        ("TG12", Decimal(1), Decimal("700.5")),
    ]
    assert d365_sink.decode(d365_sink.topics.dlq, timeout_s=3) == []
