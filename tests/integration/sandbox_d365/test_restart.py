"""State lives in SQLite: a restarted sandbox still has its rows and still accepts its tokens."""

from __future__ import annotations

import ssl
import sys
from pathlib import Path

import httpx
import pytest

from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.devenv.tls import LocalTls
from isthmus.testing.sandbox_d365 import CLIENT_ID, CLIENT_SECRET, ORG_URL, TENANT_ID

pytestmark = pytest.mark.integration


def _start(tmp_path: Path, local_tls: LocalTls, port: int) -> ManagedProcess:
    process = ManagedProcess(
        name="sandbox-d365-restart",
        argv=[
            sys.executable,
            "-m",
            "isthmus.sandbox_d365",
            "--port",
            str(port),
            "--db",
            str(tmp_path / "org.sqlite"),
            "--tls-dir",
            str(local_tls.ca_cert.parent),
        ],
        log_file=tmp_path / "sandbox.log",
    )
    process.start()
    process.wait_http_ready(f"https://127.0.0.1:{port}/_sandbox/health", ca_file=local_tls.ca_cert)
    return process


def test_rows_and_signing_key_survive_a_restart(tmp_path: Path, local_tls: LocalTls) -> None:
    port = free_port()
    base = f"https://127.0.0.1:{port}"
    verify = ssl.create_default_context(cafile=str(local_tls.ca_cert))
    process = _start(tmp_path, local_tls, port)
    try:
        token = httpx.post(
            f"{base}/{TENANT_ID}/oauth2/v2.0/token",
            verify=verify,
            data={
                "grant_type": "client_credentials",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "scope": f"{ORG_URL}/.default",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(
            f"{base}/api/data/v9.2/accounts",
            json={"name": "Durable", "accountnumber": "D-1"},
            headers=headers,
            verify=verify,
        )
        assert created.status_code == 204
    finally:
        process.stop()
    process = _start(tmp_path, local_tls, port)
    try:
        again = httpx.get(
            f"{base}/api/data/v9.2/accounts(accountnumber='D-1')", headers=headers, verify=verify
        )
        assert again.status_code == 200
        assert again.json()["name"] == "Durable"
        products = httpx.get(
            f"{base}/api/data/v9.2/products/$count", headers=headers, verify=verify
        )
        assert products.text == "6"
    finally:
        process.stop()
