"""State lives in SQLite: a restarted sandbox still has its rows and still accepts its tokens."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
import pytest

from isthmus.devenv.tls import LocalTls
from isthmus.testing.sandbox_d365 import CLIENT_ID, CLIENT_SECRET, ORG_URL, TENANT_ID
from isthmus.testing.sandbox_process import SandboxProcess, running

pytestmark = pytest.mark.integration


def test_rows_and_signing_key_survive_a_restart(tmp_path: Path, local_tls: LocalTls) -> None:
    process = SandboxProcess(
        module="isthmus.sandbox_d365", folder=tmp_path, tls=local_tls, name="sandbox-d365-restart"
    )
    base = process.base_url
    verify = ssl.create_default_context(cafile=str(local_tls.ca_cert))
    with running(process):
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
    with running(process):
        again = httpx.get(
            f"{base}/api/data/v9.2/accounts(accountnumber='D-1')", headers=headers, verify=verify
        )
        assert again.status_code == 200
        assert again.json()["name"] == "Durable"
        products = httpx.get(
            f"{base}/api/data/v9.2/products/$count", headers=headers, verify=verify
        )
        assert products.text == "6"
