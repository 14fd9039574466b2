"""sap-sink CHANGE of a sales order writes its items: quantities, new lines, removed lines."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.integration.sinks.conftest import sales_order
from tests.integration.sinks.sandbox_data import order_items
from tests.sales_orders import order_line

pytestmark = pytest.mark.integration
ORDER = "io.isthmus.s4.SalesOrderCommand"


def test_change_updates_adds_and_rejects_items_once(sap_sink, sandbox_s4_clean):
    create = sales_order(key="chg", reference="CHG-1")
    create["to_Item"] = [order_line("10", "TG11", "2"), order_line("20", "TG12", "1")]
    change = sales_order(key="chg", reference="CHG-1", action="CHANGE")
    change["to_Item"] = [order_line("10", "TG11", "5"), order_line("30", "TG12", "4")]
    # the change arrives twice (a redelivery): the second finds nothing left to do
    sap_sink.produce([("chg", create), ("chg", change), ("chg", change)], schema=ORDER)
    sap_sink.start()

    results = sap_sink.decode(sap_sink.topics.results, expected=3)
    assert [v["status"] for _, v in results] == ["SUCCEEDED"] * 3
    items = {i["SalesOrderItem"]: i for i in order_items(sandbox_s4_clean, "CHG-1")}
    assert sorted(items) == ["10", "20", "30"]
    assert Decimal(items["10"]["RequestedQuantity"]) == 5
    assert items["20"]["SalesDocumentRjcnReason"] == "10"  # removed in the source: rejected
    assert items["30"]["Material"] == "TG12"
    assert Decimal(items["30"]["RequestedQuantity"]) == 4
    assert items["30"]["SalesDocumentRjcnReason"] == ""
    calls = sandbox_s4_clean.admin.calls(method="POST", path_contains="$batch")
    changes = [c for c in calls if "PATCH A_SalesOrderItem" in c["body"]]
    assert len(changes) == 1  # the redelivered change wrote no item again
    assert sap_sink.decode(sap_sink.topics.dlq, timeout_s=3) == []
