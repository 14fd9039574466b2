"""The demo driver rides out a broker that does not answer instead of dying."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.ports import free_port
from isthmus.devenv.tls import ensure_local_tls

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_dead_letter_count_keeps_its_value_while_the_broker_is_away(tmp_path: Path) -> None:
    printed = io.StringIO()
    driver = DemoDriver(
        d365_url="https://127.0.0.1:1",
        s4_url="https://127.0.0.1:1",
        ca_file=ensure_local_tls(tmp_path).ca_cert,
        bootstrap_servers=f"127.0.0.1:{free_port()}",  # nothing listens there
        out=Console(file=printed, width=200),
    )
    driver.summary.in_dlq = 3
    try:
        driver.count_dead_letters()
        driver.count_dead_letters()
    finally:
        driver.close()

    assert driver.summary.in_dlq == 3
    assert printed.getvalue().count("Kafka unreachable, DLQ count not updated") == 1
