"""sap-sink as a real process: a few orders end up in S/4 once, with results, state and xref."""

from __future__ import annotations

import pytest

from tests.integration.sinks.conftest import sales_order
from tests.integration.sinks.sandbox_data import order_create_calls, orders_by_reference

pytestmark = pytest.mark.integration


def test_orders_created_once_with_results_state_xref_audit(sap_sink, sandbox_s4_clean):
    commands = [
        (f"key-{i}", sales_order(key=f"key-{i}", reference=f"SMOKE-{i}")) for i in range(10)
    ]
    sap_sink.produce(commands + commands[:3], schema="io.isthmus.s4.SalesOrderCommand")
    sap_sink.start()
    results = sap_sink.decode(sap_sink.topics.results, expected=13)
    statuses = sorted(v["status"] for _, v in results)
    assert statuses.count("SUCCEEDED") == 10
    assert statuses.count("DUPLICATE") == 3
    assert set(orders_by_reference(sandbox_s4_clean, "SMOKE-").values()) == {1}
    # the creates of a poll went to S/4 together, one change set per order
    single, batched = order_create_calls(sandbox_s4_clean)
    assert single + batched == 10 and batched > 0
    xref = sap_sink.decode(sap_sink.topics.xref, expected=20)
    assert {k for k, _ in xref} >= {f"salesorder:key-{i}" for i in range(10)}
    audit = sap_sink.decode(sap_sink.topics.audit, expected=13)
    assert len(audit) == 13


def test_an_order_s4_rejects_fails_alone_in_its_batch(sap_sink, sandbox_s4_clean):
    good = [(f"ok-{i}", sales_order(key=f"ok-{i}", reference=f"BATCH-{i}")) for i in range(5)]
    bad = ("bad", sales_order(key="bad", reference="BATCH-BAD", material="NO-SUCH-MATERIAL"))
    sap_sink.produce([*good[:2], bad, *good[2:]], schema="io.isthmus.s4.SalesOrderCommand")
    sap_sink.start()

    results = dict(sap_sink.decode(sap_sink.topics.results, expected=6))
    assert results["bad"]["status"] == "REJECTED"
    assert {results[f"ok-{i}"]["status"] for i in range(5)} == {"SUCCEEDED"}
    found = orders_by_reference(sandbox_s4_clean, "BATCH-")
    assert found == dict.fromkeys((f"BATCH-{i}" for i in range(5)), 1)
    _, batched = order_create_calls(sandbox_s4_clean)
    assert batched > 0  # the poll's creates went in $batch change sets
    dlq = sap_sink.decode(sap_sink.topics.dlq, expected=1)
    assert [key for key, _ in dlq] == ["bad"]
