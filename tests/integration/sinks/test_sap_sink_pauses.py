"""sap-sink pauses instead of burning retries: circuit breaker and a refused credential."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from tests.integration.sinks.conftest import sales_order, wait_for
from tests.integration.sinks.sandbox_data import orders_by_reference

pytestmark = pytest.mark.integration
ORDER = "io.isthmus.s4.SalesOrderCommand"


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_breaker_opens_on_sustained_503_pauses_and_resumes(sap_sink, sandbox_s4_clean):
    admin = sandbox_s4_clean.admin
    admin.add_fault(kind="error", status=503, path="*API_SALES_ORDER_SRV*")
    count = 30
    sap_sink.produce(
        [(f"b-{i}", sales_order(key=f"b-{i}", reference=f"BRK-{i}")) for i in range(count)],
        schema=ORDER,
    )
    sap_sink.start(
        extra={
            "ISTHMUS_SAP_SINK_S4__RETRY__DEADLINE_SECONDS": "1",
            "ISTHMUS_SAP_SINK_S4__RETRY__MAX_ATTEMPTS": "2",
            "ISTHMUS_SAP_SINK_SINK__BREAKER_THRESHOLD": "3",
        }
    )
    port = sap_sink.ports[-1]
    wait_for(lambda: _get(port, "/readyz") == (503, "breaker"))
    assert "isthmus_sink_breaker_open" in _get(port, "/metrics")[1]
    calls_while_open = len(admin.calls(path_contains="API_SALES_ORDER_SRV"))
    time.sleep(3)
    # while open only the probes reach S/4: far fewer calls than 30 commands' retries
    assert len(admin.calls(path_contains="API_SALES_ORDER_SRV")) - calls_while_open < 10

    admin.clear_faults()
    wait_for(lambda: len(orders_by_reference(sandbox_s4_clean, "BRK-")) == count, timeout_s=90)
    assert set(orders_by_reference(sandbox_s4_clean, "BRK-").values()) == {1}
    assert _get(port, "/readyz")[0] == 200
    assert sap_sink.decode(sap_sink.topics.dlq, timeout_s=3) == []


def test_refused_credential_pauses_and_alerts_without_dead_letters(sap_sink, sandbox_s4_clean):
    count = 5
    sap_sink.produce(
        [(f"a-{i}", sales_order(key=f"a-{i}", reference=f"AUTH-{i}")) for i in range(count)],
        schema=ORDER,
    )
    wrong = sap_sink.start(name="wrong", extra={"ISTHMUS_SAP_SINK_S4__PASSWORD": "wrong"})
    port = sap_sink.ports[-1]
    wait_for(lambda: _get(port, "/readyz") == (503, "auth"))
    metrics = _get(port, "/metrics")[1]
    assert any(
        line.startswith("isthmus_sink_auth_failing") and line.rstrip().endswith("1.0")
        for line in metrics.splitlines()
    ), metrics
    wrong.stop()
    assert sap_sink.decode(sap_sink.topics.dlq, timeout_s=3) == []
    assert orders_by_reference(sandbox_s4_clean, "AUTH-") == {}

    sap_sink.start(name="fixed")
    wait_for(lambda: len(orders_by_reference(sandbox_s4_clean, "AUTH-")) == count)
    keys = {k for k, _ in sap_sink.decode(sap_sink.topics.results, expected=count)}
    assert keys == {f"a-{i}" for i in range(count)}
