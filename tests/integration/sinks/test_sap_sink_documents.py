"""sap-sink document commands: delivery + goods issue, billing, journal entry; each sent twice."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.testing.kafka import create_topics
from tests.integration.sinks.conftest import header, sales_order

pytestmark = pytest.mark.integration
ENTITIES = ("outbounddelivery", "billingdocument", "journalentry")


def _produce(harness, entity: str, schema: str, key: str, value: dict[str, Any]) -> None:
    topic = f"{harness.topics.prefix}s4.{entity}.commands"
    serializer = harness.factory.serializer(value_schema=schema)
    producer = Producer(harness.broker.settings.client_config())
    for _ in range(2):  # a redelivery must find the first result, not make a second document
        producer.produce(
            topic, serializer(value, SerializationContext(topic, MessageField.VALUE)), key.encode()
        )
    producer.flush(30)


def _results(harness, entity: str, expected: int) -> list[dict[str, Any]]:
    topic = f"{harness.topics.prefix}s4.{entity}.results"
    return [v for _, v in harness.decode(topic, expected=expected, timeout_s=60)]


def _delivery(order: str) -> dict[str, Any]:
    return {
        "header": header(key="so-doc", reference="DOC-1"),
        "action": "CREATE_AND_POST_GOODS_ISSUE",
        "DeliveryDocument": None,
        "SalesOrder": order,
        "ShippingPoint": None,
        "ActualGoodsMovementDate": None,
        "to_DeliveryDocumentItem": [],
    }


def _journal() -> dict[str, Any]:
    def line(n: str, account: str, code: str) -> dict[str, Any]:
        return {
            "ReferenceDocumentItem": n,
            "GLAccount": account,
            "Debtor": None,
            "AmountInTransactionCurrency": {"amount": Decimal("100.0000"), "currencyCode": "EUR"},
            "DebitCreditCode": code,
            "DocumentItemText": None,
            "CostCenter": None,
            "ProfitCenter": None,
            "TaxCode": None,
        }

    return {
        "header": header(key="inv-1", reference="INV-JE-1", flow="d365-invoice-to-s4-journalentry"),
        "OriginalReferenceDocumentType": "BKPFF",
        "OriginalReferenceDocument": "INV-JE-1",
        "OriginalReferenceDocumentLogicalSystem": None,
        "BusinessTransactionType": "RFBU",
        "AccountingDocumentType": "SA",
        "DocumentReferenceID": "INV-JE-1",
        "DocumentHeaderText": "Isthmus test",
        "CompanyCode": "1010",
        "DocumentDate": date(2026, 1, 15),
        "PostingDate": date(2026, 1, 15),
        "Item": [line("1", "11001000", "S"), line("2", "40000000", "H")],
        "DebtorItem": [],
    }


def test_delivery_billing_and_journal_entry_once_each(sap_sink, kafka_broker, sandbox_s4_clean):
    prefix = sap_sink.topics.prefix
    for entity in ENTITIES:
        create_topics(
            kafka_broker,
            f"{prefix}s4.{entity}.commands",
            f"{prefix}s4.{entity}.results",
            partitions=2,
        )
    create_topics(kafka_broker, f"{prefix}state.s4.billingdocument", partitions=2)
    sap_sink.produce(
        [("so-doc", sales_order(key="so-doc", reference="DOC-1"))],
        schema="io.isthmus.s4.SalesOrderCommand",
    )
    sap_sink.start(
        extra={
            "ISTHMUS_SAP_SINK_SINK__ENTITIES": '["salesorder", "outbounddelivery", '
            '"billingdocument", "journalentry"]'
        }
    )
    order = sap_sink.decode(sap_sink.topics.results, expected=1)[0][1]["targetId"]

    _produce(
        sap_sink,
        "outbounddelivery",
        "io.isthmus.s4.OutboundDeliveryCommand",
        "so-doc",
        _delivery(order),
    )
    deliveries = _results(sap_sink, "outbounddelivery", 2)
    assert [r["status"] for r in deliveries] == ["SUCCEEDED", "DUPLICATE"]
    delivery = deliveries[0]["targetId"]
    assert deliveries[1]["targetId"] == delivery

    billing = {
        "header": header(key=delivery, reference=delivery),
        "SDDocument": delivery,
        "BillingDocumentType": "F2",
        "BillingDocumentDate": None,
        "SalesOrganization": "1010",
    }
    _produce(
        sap_sink, "billingdocument", "io.isthmus.s4.BillingDocumentCreateCommand", delivery, billing
    )
    bills = _results(sap_sink, "billingdocument", 2)
    assert [r["status"] for r in bills] == ["SUCCEEDED", "DUPLICATE"]
    assert bills[0]["targetId"] == bills[1]["targetId"]

    _produce(sap_sink, "journalentry", "io.isthmus.s4.JournalEntryPostCommand", "inv-1", _journal())
    entries = _results(sap_sink, "journalentry", 2)
    assert [r["status"] for r in entries] == ["SUCCEEDED", "DUPLICATE"]
    soap = sandbox_s4_clean.admin.calls(method="POST", path_contains="journalentrycreate")
    assert len(soap) == 1
