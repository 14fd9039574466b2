"""Orders through the whole chain, with a transformer and a sap-sink restart in the middle."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from isthmus.cli.timeline import Hop, timeline
from isthmus.devenv.demo_systems import BILLING_SRV, DELIVERY_SRV, ORDERS_SRV
from isthmus.devenv.system import (
    D365_CLIENT_SECRET,
    EVENT_MESH_PASSWORD,
    EVENT_MESH_USER,
    S4_PASSWORD,
    WEBHOOK_KEY,
)

from .conftest import RunningSystem

pytestmark = pytest.mark.e2e

ORDERS = 200  # the whole e2e tier takes about five minutes on the shared 2-core machine
ORDER_EVERY_S = 0.25


@pytest.mark.timeout(600)
def test_orders_reach_the_journal_entry_once_each_across_restarts(system: RunningSystem) -> None:
    driver = system.driver
    started = time.monotonic()
    for number in range(ORDERS):
        driver.create_order()
        driver.poll()
        if number == ORDERS // 3:
            system.restart("transformer")
        if number == 2 * ORDERS // 3:
            system.restart("sap-sink")
        time.sleep(ORDER_EVERY_S)
    ours = list(driver.journeys.values())
    assert system.poll_until(lambda: all(j.done for j in ours), timeout_s=240), _stuck(ours)
    elapsed = max(j.at["journal entry"] for j in ours) - started

    _assert_every_order_written_back(system, {j.order_id: j.s4_order for j in ours})
    _assert_no_duplicates_in_s4(system, [j.order_number for j in ours])
    _assert_one_invoice_per_billing_document(system, [j.billing for j in ours])
    latencies = _assert_timelines_complete(system, [j.order_id for j in ours])
    _assert_trace_prints_the_journey(system, ours[0].order_id)
    _report(orders=len(ours), elapsed_s=elapsed, latencies=latencies)


def _stuck(journeys: list[Any]) -> str:
    open_ones = [j for j in journeys if not j.done]
    stages = Counter(j.stage for j in open_ones)
    named = ", ".join(f"{j.order_id} (S/4 {j.s4_order or '-'})" for j in open_ones[:5])
    return f"orders not completed, by last stage reached: {dict(stages)}: {named}"


def _assert_every_order_written_back(system: RunningSystem, expected: dict[str, str]) -> None:
    rows = system.driver.d365.rows("salesorders", select="salesorderid,isthmus_s4salesorder")
    written = {row["salesorderid"]: row["isthmus_s4salesorder"] for row in rows}
    assert {key: written.get(key) for key in expected} == expected


def _assert_no_duplicates_in_s4(system: RunningSystem, order_numbers: list[str]) -> None:
    s4 = system.driver.s4
    orders = s4.query(f"{ORDERS_SRV}/A_SalesOrder", select="SalesOrder,PurchaseOrderByCustomer")
    per_reference = Counter(o["PurchaseOrderByCustomer"] for o in orders)
    assert {n: per_reference[n] for n in order_numbers} == dict.fromkeys(order_numbers, 1)
    items = s4.query(
        f"{DELIVERY_SRV}/A_OutbDeliveryItem", select="DeliveryDocument,ReferenceSDDocument"
    )
    deliveries_per_order = Counter(
        order for order, _ in {(i["ReferenceSDDocument"], i["DeliveryDocument"]) for i in items}
    )
    assert max(deliveries_per_order.values()) == 1
    billing = s4.query(
        f"{BILLING_SRV}/A_BillingDocumentItem", select="BillingDocument,ReferenceSDDocument"
    )
    per_delivery = Counter(
        d for d, _ in {(i["ReferenceSDDocument"], i["BillingDocument"]) for i in billing}
    )
    assert max(per_delivery.values()) == 1
    # whether created one by one or in $batch change sets: no reference has two S/4 orders
    assert max(per_reference.values()) == 1


def _assert_one_invoice_per_billing_document(system: RunningSystem, billing: list[str]) -> None:
    rows = system.driver.d365.rows("invoices", select="invoiceid,isthmus_s4billingdocument")
    per_document = Counter(row["isthmus_s4billingdocument"] for row in rows)
    assert {b: per_document[b] for b in billing} == dict.fromkeys(billing, 1)


def _assert_timelines_complete(system: RunningSystem, order_ids: list[str]) -> list[float]:
    """Each order's audit timeline has every hop; returns webhook → S/4 order latencies (s)."""
    hops = [Hop.of(event) for event in system.audit_events()]
    latencies = []
    for order_id in order_ids:
        journey = timeline(hops, key=order_id)
        seen = {(hop.service, hop.outcome) for hop in journey}
        for service in ("ingress", "transformer", "sap-sink", "d365-sink"):
            assert (service, "SUCCEEDED") in seen, f"{order_id}: no {service} hop in {seen}"
        received = _first(journey, "ingress")
        created = _first(journey, "sap-sink")
        latencies.append((created - received).total_seconds())
    return latencies


def test_no_service_log_line_carries_a_secret(system: RunningSystem) -> None:
    """After the journeys above and a few refused requests, no credential is in any service log."""
    refused_key = "e2e-wrong-webhook-key-7f3a"
    bearer = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJlMmUifQ.ZTJlLXNpZ25hdHVyZQ"
    with httpx.Client(base_url=system.config.ingress_url, timeout=30) as client:
        answered = client.post(
            f"/v1/webhooks/dataverse?code={refused_key}",
            json={},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        assert answered.status_code in {401, 403}
        answered = client.post(
            "/v1/webhooks/sap", json={}, auth=(EVENT_MESH_USER, "e2e-wrong-password-9c1d")
        )
        assert answered.status_code in {401, 403}
    secrets = {
        refused_key,
        bearer,
        "e2e-wrong-password-9c1d",
        WEBHOOK_KEY,
        S4_PASSWORD,
        D365_CLIENT_SECRET,
        EVENT_MESH_PASSWORD,
    }
    jwt = re.compile(r"eyJ[\w-]{4,}\.[\w-]{4,}\.")
    logs = {
        name: (system.log_dir / f"{name}.log").read_text(errors="replace") for name in system.specs
    }
    assert all(logs.values()), "every service wrote a log"
    for name, text in logs.items():
        for secret in secrets:
            assert secret not in text, f"{name}.log carries a secret"
        assert not jwt.search(text), f"{name}.log carries a token"


def _assert_trace_prints_the_journey(system: RunningSystem, order_id: str) -> None:
    """``isthmus trace <order id>`` prints every service's hop and the trace id."""
    cli = Path(sys.executable).parent / "isthmus"
    traced = subprocess.run(
        [str(cli), "trace", order_id, "--bootstrap-servers", system.config.bootstrap_servers],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=system.config.root,
        env={**os.environ, "COLUMNS": "250"},
    )
    assert traced.returncode == 0, traced.stdout + traced.stderr
    for service in ("ingress", "transformer", "sap-sink", "d365-sink"):
        assert service in traced.stdout
    assert "trace" in traced.stdout


def _first(journey: list[Hop], service: str) -> datetime:
    return min(h.occurred_at for h in journey if h.service == service and h.outcome == "SUCCEEDED")


def _report(*, orders: int, elapsed_s: float, latencies: list[float]) -> None:
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"\nE2E: {orders} orders to the journal entry in {elapsed_s:.0f} s = "
        f"{orders / elapsed_s * 60:.1f} orders/min end to end; webhook -> S/4 order "
        f"p50 {statistics.median(latencies):.2f} s, p99 {quantiles[98]:.2f} s"
    )
