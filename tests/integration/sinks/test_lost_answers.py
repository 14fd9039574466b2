"""Writes the target applied but whose answers were lost: the sinks create nothing twice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.testing.kafka import create_topics
from isthmus.testing.sandbox_s4 import SandboxS4
from tests.integration.sinks.conftest import SinkHarness, account_upsert, sales_order
from tests.integration.sinks.sandbox_data import order_items, orders_by_reference
from tests.integration.sinks.test_d365_sink_invoices import INVOICE, _invoice, _line
from tests.integration.sinks.test_sap_sink_documents import _delivery, _journal
from tests.integration.sinks.test_sap_sink_partners import _partner
from tests.sales_orders import order_line

pytestmark = pytest.mark.integration
ORDERS = 200
SALES_ORDER = "io.isthmus.s4.SalesOrderCommand"
OK = {"SUCCEEDED", "DUPLICATE"}


def _orders(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (
            f"{prefix.lower()}-{i}",
            sales_order(
                key=f"{prefix.lower()}-{i}",
                reference=f"{prefix}-{i}",
                sold_to="10100001" if i % 2 else "10100002",
            ),
        )
        for i in range(ORDERS)
    ]


def _lost(sandbox: SandboxS4, path: str) -> list[dict[str, Any]]:
    """Calls S/4 applied (2xx) whose answer the caller never got."""
    return [
        c
        for c in sandbox.admin.calls(method="POST", path_contains=path)
        if c["fault"] == "lost_answer" and 200 <= c["app_status"] < 300
    ]


def _assert_each_order_once(sink: SinkHarness, sandbox: SandboxS4, prefix: str) -> None:
    keys = {key for key, _ in _orders(prefix)}
    results = sink.decode(sink.topics.results, expected=ORDERS, timeout_s=60)
    found = orders_by_reference(sandbox, f"{prefix}-")
    assert len(found) == ORDERS and set(found.values()) == {1}
    statuses = {key: value["status"] for key, value in results}
    assert set(statuses) == keys and set(statuses.values()) <= OK, statuses
    # orders whose create answer was lost were found by the next look, not created again
    assert "DUPLICATE" in statuses.values()
    xref = {key for key, _ in sink.decode(sink.topics.xref, expected=2 * ORDERS)}
    assert {f"salesorder:{key}" for key in keys} <= xref
    assert sink.decode(sink.topics.dlq, timeout_s=3) == []


@pytest.mark.timeout(120)
def test_batched_order_creates_survive_lost_batch_answers(sap_sink, sandbox_s4_clean):
    admin = sandbox_s4_clean.admin
    # the answers of the first four batches of creates are lost: two closed, two gateway timeouts
    creates = {"path": "*/API_SALES_ORDER_SRV/$batch", "body_contains": "POST A_SalesOrder"}
    admin.add_fault(kind="lost_answer", method="POST", count=2, **creates)
    admin.add_fault(kind="lost_answer", method="POST", count=2, gateway_status=504, **creates)
    sap_sink.produce(_orders("LOSTB"), schema=SALES_ORDER)
    sap_sink.start()

    _assert_each_order_once(sap_sink, sandbox_s4_clean, "LOSTB")
    assert [c["status"] for c in _lost(sandbox_s4_clean, "$batch")] == [0, 0, 504, 504]


@pytest.mark.timeout(120)
def test_single_order_creates_survive_lost_answers(sap_sink, sandbox_s4_clean):
    admin = sandbox_s4_clean.admin
    path = "*/API_SALES_ORDER_SRV/A_SalesOrder"
    admin.add_fault(kind="lost_answer", path=path, method="POST", count=15)
    admin.add_fault(kind="lost_answer", path=path, method="POST", count=15, gateway_status=504)
    sap_sink.produce(_orders("LOSTS"), schema=SALES_ORDER)
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_SINK__MODE": "single"})

    _assert_each_order_once(sap_sink, sandbox_s4_clean, "LOSTS")
    lost = [c["status"] for c in _lost(sandbox_s4_clean, "/A_SalesOrder")]
    assert lost == [0] * 15 + [504] * 15


def test_order_change_adds_its_new_items_once_when_the_answer_is_lost(sap_sink, sandbox_s4_clean):
    sandbox_s4_clean.admin.add_fault(
        kind="lost_answer", path="*/$batch", method="POST", body_contains="/to_Item", count=1
    )
    create = sales_order(key="chg", reference="LOST-CHG")
    create["to_Item"] = [order_line("10", "TG11", "2")]
    change = sales_order(key="chg", reference="LOST-CHG", action="CHANGE")
    # a numbered new line and one S/4 numbers itself (found again by its material)
    change["to_Item"] = [order_line("10", "TG11", "5"), order_line("20", "TG12", "1")]
    change["to_Item"].append(order_line(None, "MZ-FG-M550", "3"))
    sap_sink.produce([("chg", create), ("chg", change)], schema=SALES_ORDER)
    sap_sink.start()

    results = sap_sink.decode(sap_sink.topics.results, expected=2)
    assert [v["status"] for _, v in results] == ["SUCCEEDED", "SUCCEEDED"]
    (lost,) = _lost(sandbox_s4_clean, "$batch")
    assert lost["status"] == 0
    items = order_items(sandbox_s4_clean, "LOST-CHG")
    assert sorted((i["Material"], Decimal(i["RequestedQuantity"])) for i in items) == [
        ("MZ-FG-M550", Decimal(3)),
        ("TG11", Decimal(5)),
        ("TG12", Decimal(1)),
    ]
    assert sap_sink.decode(sap_sink.topics.dlq, timeout_s=3) == []


def _s4_rows(sandbox: SandboxS4, service: str, entity_set: str, flt: str) -> list[dict[str, Any]]:
    url = sandbox.service_url(service) + entity_set
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=60) as client:
        answer = client.get(url, params={"$filter": flt, "$format": "json"})
    rows: list[dict[str, Any]] = answer.json()["d"]["results"]
    return rows


def _send(sink: SinkHarness, entity: str, schema: str, key: str, value: dict[str, Any]) -> None:
    topic = f"{sink.topics.prefix}s4.{entity}.commands"
    serializer = sink.factory.serializer(value_schema=schema)
    producer = Producer(sink.broker.settings.client_config())
    ctx = SerializationContext(topic, MessageField.VALUE)
    producer.produce(topic, serializer(value, ctx), key.encode())
    producer.flush(30)


def test_documents_and_partner_created_once_when_the_answer_is_lost(
    sap_sink, kafka_broker, sandbox_s4_clean
):
    prefix = sap_sink.topics.prefix
    for entity in ("journalentry", "businesspartner", "outbounddelivery"):
        create_topics(
            kafka_broker,
            f"{prefix}s4.{entity}.commands",
            f"{prefix}s4.{entity}.results",
            f"{prefix}state.s4.{entity}",
            partitions=2,
        )
    admin = sandbox_s4_clean.admin
    admin.add_fault(kind="lost_answer", path="*journalentrycreate*", method="POST", count=1)
    admin.add_fault(kind="lost_answer", path="*/A_BusinessPartner", method="POST", count=1)
    admin.add_fault(kind="lost_answer", path="*/A_OutbDeliveryHeader", method="POST", count=1)
    admin.add_fault(kind="lost_answer", path="*/PostGoodsIssue", method="POST", count=1)
    sap_sink.produce([("so-doc", sales_order(key="so-doc", reference="DOC-1"))], schema=SALES_ORDER)
    _send(sap_sink, "journalentry", "io.isthmus.s4.JournalEntryPostCommand", "inv-1", _journal())
    partner = _partner(number=None, name="Lost Answer Ltd")
    _send(
        sap_sink, "businesspartner", "io.isthmus.s4.BusinessPartnerUpsertCommand", "acc-1", partner
    )
    entities = '["salesorder", "outbounddelivery", "journalentry", "businesspartner"]'
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_SINK__ENTITIES": entities})
    order = sap_sink.decode(sap_sink.topics.results, expected=1)[0][1]["targetId"]
    delivery = _delivery(order)
    _send(sap_sink, "outbounddelivery", "io.isthmus.s4.OutboundDeliveryCommand", "so-doc", delivery)

    for entity in ("journalentry", "businesspartner", "outbounddelivery"):
        (result,) = sap_sink.decode(f"{prefix}s4.{entity}.results", expected=1)
        assert result[1]["status"] in OK, result
    for path in ("journalentrycreate", "/A_BusinessPartner", "/A_OutbDeliveryHeader", "/PostGoods"):
        assert len(_lost(sandbox_s4_clean, path)) == 1, path
    items = _s4_rows(
        sandbox_s4_clean,
        "API_OUTBOUND_DELIVERY_SRV",
        "A_OutbDeliveryItem",
        f"ReferenceSDDocument eq '{order}'",
    )
    (number,) = {row["DeliveryDocument"] for row in items}
    # the goods issue S/4 posted but never confirmed was not posted a second time
    goods_issues = admin.calls(method="POST", path_contains="/PostGoodsIssue")
    assert [c["app_status"] for c in goods_issues if 200 <= c["status"] < 300] == []
    assert [c["status"] for c in goods_issues if c["app_status"] == 200] == [0]
    header = _s4_rows(
        sandbox_s4_clean,
        "API_OUTBOUND_DELIVERY_SRV",
        "A_OutbDeliveryHeader",
        f"DeliveryDocument eq '{number}'",
    )
    assert header[0]["OverallGoodsMovementStatus"] == "C"
    lines = _s4_rows(
        sandbox_s4_clean,
        "API_JOURNALENTRYITEMBASIC_SRV",
        "A_JournalEntryItemBasic",
        "OriginalReferenceDocument eq 'INV-JE-1'",
    )
    assert len({row["AccountingDocument"] for row in lines}) == 1 and len(lines) == 2
    partners = _s4_rows(
        sandbox_s4_clean,
        "API_BUSINESS_PARTNER",
        "A_BusinessPartner",
        "BusinessPartnerIDByExtSystem eq 'ACC-1'",
    )
    assert len(partners) == 1
    assert sap_sink.decode(sap_sink.topics.dlq, timeout_s=3) == []


def _dataverse_rows(sandbox, entity_set: str, params: dict[str, str]) -> list[dict[str, Any]]:
    with sandbox.api_client() as client:
        answer = client.get(entity_set, params=params, headers={"Prefer": "odata.maxpagesize=5000"})
    rows: list[dict[str, Any]] = answer.json()["value"]
    return rows


def test_dataverse_upserts_and_invoice_lines_once_when_answers_are_lost(
    d365_sink, kafka_broker, sandbox_d365_clean
):
    admin = sandbox_d365_clean.admin
    prefix = d365_sink.topics.prefix
    create_topics(
        kafka_broker,
        f"{prefix}d365.invoice.commands",
        f"{prefix}d365.invoice.results",
        f"{prefix}state.d365.invoice",
        partitions=2,
    )
    count = 100
    commands = [
        (f"93{i:05d}", account_upsert(partner=f"93{i:05d}", name=f"Lost {i}", currency="EUR"))
        for i in range(count)
    ]
    batch = "/api/data/v9.2/$batch"
    admin.add_fault(kind="lost_answer", path=batch, method="POST", times=1)  # the first wave
    admin.add_fault(kind="lost_answer", path=batch, method="POST", rate=0.3)
    d365_sink.produce(commands, schema="io.isthmus.d365.AccountUpsertCommand")
    d365_sink.start(extra={"ISTHMUS_D365_SINK_SINK__ENTITIES": '["account", "invoice"]'})
    results = d365_sink.decode(d365_sink.topics.results, expected=count, timeout_s=60)
    assert {v["status"] for _, v in results} == {"SUCCEEDED"}
    accounts = _dataverse_rows(
        sandbox_d365_clean,
        "accounts",
        {"$select": "isthmus_s4businesspartner", "$filter": "startswith(name,'Lost ')"},
    )
    assert sorted(a["isthmus_s4businesspartner"] for a in accounts) == sorted(
        k for k, _ in commands
    )
    assert [c for c in admin.calls(method="POST", path=batch) if c["fault"] == "lost_answer"]

    admin.clear_faults()
    admin.clear_calls()
    admin.add_fault(kind="lost_answer", path=batch, method="POST", times=1)
    lines = [_line("TG11", "2", "1100"), _line("TG12", "1", "700.5"), _line("HT-1000", "3", "900")]
    invoice = {**_invoice("90000077", lines), "customeraccountnumber": "9300001"}
    topic = f"{prefix}d365.invoice.commands"
    producer = Producer(kafka_broker.settings.client_config())
    serializer = d365_sink.factory.serializer(value_schema=INVOICE)
    producer.produce(
        topic, serializer(invoice, SerializationContext(topic, MessageField.VALUE)), b"90000077"
    )
    producer.flush(30)
    ((_, result),) = d365_sink.decode(f"{prefix}d365.invoice.results", expected=1)
    assert result["status"] == "SUCCEEDED", result["message"]
    (lost,) = [c for c in admin.calls(method="POST", path=batch) if c["fault"] == "lost_answer"]
    assert lost["app_status"] == 200  # the change set was applied
    invoices = _dataverse_rows(
        sandbox_d365_clean,
        "invoices",
        {
            "$filter": "isthmus_s4billingdocument eq '90000077'",
            "$expand": "invoice_details($select=productnumber)",
        },
    )
    assert len(invoices) == 1
    assert sorted(d["productnumber"] for d in invoices[0]["invoice_details"]) == [
        "HT-1000",
        "TG11",
        "TG12",
    ]
    assert d365_sink.decode(d365_sink.topics.dlq, timeout_s=3) == []
