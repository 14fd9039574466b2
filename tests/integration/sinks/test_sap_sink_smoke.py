"""sap-sink as a real process: a few orders end up in S/4 once, with results, state and xref."""

from __future__ import annotations

import pytest

from tests.integration.sinks.conftest import sales_order

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
    posts = sandbox_s4_clean.admin.calls(method="POST", path_contains="A_SalesOrder")
    assert len([c for c in posts if c["status"] == 201]) == 10
    xref = sap_sink.decode(sap_sink.topics.xref, expected=20)
    assert {k for k, _ in xref} >= {f"salesorder:key-{i}" for i in range(10)}
    audit = sap_sink.decode(sap_sink.topics.audit, expected=13)
    assert len(audit) == 13
