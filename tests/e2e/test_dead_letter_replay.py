"""An order S/4 refuses lands in the sap-sink DLQ with SAP's message; replay completes it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from isthmus.devenv.journey import Journey
from isthmus.testing.kafka import drain

from .conftest import RunningSystem

pytestmark = pytest.mark.e2e

UNKNOWN_IN_S4 = "HT-1000"  # seeded in Dataverse, not in S/4


@pytest.mark.timeout(240)
def test_unknown_product_is_dead_lettered_and_replayed_after_the_fix(
    system: RunningSystem,
) -> None:
    journey = system.driver.create_order(lines=[(UNKNOWN_IN_S4, 1)])
    message = _wait_for_dead_letter(system, journey)
    assert "V1/392" in message or UNKNOWN_IN_S4 in message, message

    system.driver.s4.create_product(product=UNKNOWN_IN_S4, description="Touch screen 10 inch")
    replay = subprocess.run(
        [
            str(Path(sys.executable).parent / "isthmus"),
            "replay",
            "run",
            "sap-sink.dlq",
            "--key",
            journey.order_id,
            "--bootstrap-servers",
            system.config.bootstrap_servers,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=system.config.root,
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert system.poll_until(lambda: journey.reached("write-back"), timeout_s=120), journey.stage


def _wait_for_dead_letter(system: RunningSystem, journey: Journey) -> str:
    """The ``isthmus_error_message`` of the order's dead letter (waits up to 90 s)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        for message in _dead_letters(system, journey.order_id):
            return message
        time.sleep(1)
    raise AssertionError(f"{journey.order_number} not in sap-sink.dlq")


def _dead_letters(system: RunningSystem, key: str) -> list[str]:
    found = []
    for record in drain(system.broker, "sap-sink.dlq", timeout_s=5):
        if (record.key() or b"").decode() != key:
            continue
        headers = dict(record.headers() or [])
        value = headers.get("isthmus_error_message") or b""
        found.append(value.decode() if isinstance(value, bytes) else value)
    return found
