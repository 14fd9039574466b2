"""The demo driver rides out a broker that does not answer, and expired tokens, instead of dying."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.demo_systems import Dataverse
from isthmus.devenv.ports import free_port
from isthmus.devenv.tls import ensure_local_tls
from isthmus.testing.sandbox_d365 import SandboxD365

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


def test_the_clerk_signs_in_again_when_every_token_was_expired(
    sandbox_d365_clean: SandboxD365,
) -> None:
    clerk = Dataverse(url=sandbox_d365_clean.base_url, ca_file=sandbox_d365_clean.ca_file)
    try:
        clerk.sign_in()
        assert clerk.rows("accounts", select="accountid")
        sandbox_d365_clean.admin.expire_tokens()

        assert clerk.rows("accounts", select="accountid")
    finally:
        clerk.close()
    unauthorized = sandbox_d365_clean.admin.calls(path="/api/data/v9.2/accounts", status=401)
    assert len(unauthorized) == 1  # one refused call, then the fresh token was used
