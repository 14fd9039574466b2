"""Shared helpers of the sandbox-s4 integration tests: an httpx client with CSRF handling."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from isthmus.testing.sandbox_s4 import SandboxS4, sales_order_body

ORDER = sales_order_body("WEB-1001")


class S4:
    """A communication-user client that fetches a CSRF token once, as SAP clients do."""

    order = ORDER

    def __init__(self, sandbox: SandboxS4) -> None:
        self.sandbox = sandbox
        self.http = httpx.Client(
            base_url=f"{sandbox.base_url}/sap/opu/odata/sap/",
            verify=sandbox.ssl_context(),
            auth=sandbox.basic_auth,
            headers={"Accept": "application/json"},
            timeout=30,
        )

    def fetch_token(self, service: str = "API_SALES_ORDER_SRV") -> str:
        response = self.http.head(f"{service}/", headers={"X-CSRF-Token": "Fetch"})
        token = response.headers["x-csrf-token"]
        self.http.headers["X-CSRF-Token"] = token
        return token

    def post(self, path: str, body: Any, **headers: str) -> httpx.Response:
        return self.http.post(path, json=body, headers=headers)

    def create_order(self, **changes: Any) -> dict[str, Any]:
        response = self.post("API_SALES_ORDER_SRV/A_SalesOrder", {**ORDER, **changes})
        assert response.status_code == 201, response.text
        order: dict[str, Any] = response.json()["d"]
        return order


@pytest.fixture
def s4(sandbox_s4_clean: SandboxS4) -> Iterator[S4]:
    """A fresh sandbox and a client holding a CSRF token and session cookies."""
    client = S4(sandbox_s4_clean)
    client.fetch_token()
    yield client
    client.http.close()
