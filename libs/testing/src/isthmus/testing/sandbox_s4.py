"""pytest fixtures for the S/4HANA sandbox: one real HTTPS sandbox process per test session.

Use ``sandbox_s4`` for the running process (URLs, credentials, CA file, admin helper) and
``sandbox_s4_clean`` in tests that need fresh seed data, no faults and default settings::

    def test_order(sandbox_s4_clean):
        sandbox = sandbox_s4_clean
        url = sandbox.service_url("API_SALES_ORDER_SRV")
        client = httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth)
        ...
        assert len(sandbox.admin.calls(method="POST", path_contains="A_SalesOrder")) == 1

With a ``requests.Session`` (pyodata), set ``session.verify = str(sandbox.ca_file)`` and
``session.trust_env = False``: otherwise ``REQUESTS_CA_BUNDLE`` from the environment wins.

Set ``ISTHMUS_TEST_SANDBOX_S4`` to the base URL of a running sandbox (and
``ISTHMUS_TEST_SANDBOX_S4_CA`` to its CA file) to use it instead of starting one.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from isthmus.devenv.tls import LocalTls
from isthmus.testing.sandbox_admin import SandboxAdminClient
from isthmus.testing.sandbox_process import SandboxProcess, running

# Defaults of isthmus.sandbox_s4.settings (the sandbox process uses the same values).
COMM_USER = "ISTHMUS_COMM"
COMM_PASSWORD = "Isthmus-Sandbox-1"  # noqa: S105 - public sandbox credential
OAUTH_CLIENT_ID = "ISTHMUS_OAUTH"
OAUTH_CLIENT_SECRET = "Isthmus-OAuth-Secret-1"  # noqa: S105 - public sandbox credential


def sales_order_body(
    reference: str, *items: tuple[str, str], sold_to: str = "17100001"
) -> dict[str, Any]:
    """A deep-insert ``A_SalesOrder`` of the seeded US sales area 1710/10/00 (customer 17100001
    unless ``sold_to``); ``items`` are (material, quantity in PC) pairs, two TG11 by default."""
    lines = items or (("TG11", "2"),)
    return {
        "SalesOrderType": "OR",
        "SalesOrganization": "1710",
        "DistributionChannel": "10",
        "OrganizationDivision": "00",
        "SoldToParty": sold_to,
        "PurchaseOrderByCustomer": reference,
        "to_Item": {
            "results": [
                {"Material": m, "RequestedQuantity": q, "RequestedQuantityUnit": "PC"}
                for m, q in lines
            ]
        },
    }


class SandboxS4Admin(SandboxAdminClient):
    """Calls the sandbox admin API (`/_sandbox/...`); see services/sandbox-s4/README.md."""

    def reset(self, *, seed: bool = True) -> None:
        """Wipe all state, faults and runtime settings; reload the seed catalogue."""
        self.request("POST", "/reset", {"seed": seed})

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Activate a fault rule: ``add_fault(kind="throttle", path="*A_SalesOrder*", count=2)``."""
        result: dict[str, Any] = self.request("POST", "/faults", rule)
        return result

    def calls(
        self, *, method: str | None = None, path_contains: str | None = None
    ) -> list[dict[str, Any]]:
        """Calls the sandbox received (oldest first), optionally filtered."""
        return self.listing("/calls", method=method or None, path_contains=path_contains or None)

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change runtime settings (page_size, require_if_match, csrf_ttl_s, token_ttl_s, ...)."""
        result: dict[str, Any] = self.request("PUT", "/settings", changes)
        return result

    def expire_csrf(self) -> None:
        """Invalidate every CSRF token (clients must fetch again)."""
        self.request("POST", "/csrf/expire")

    def billing_run(self, *, deliveries: list[str] | None = None) -> list[str]:
        """Bill goods-issued deliveries (the billing run); return the billing document numbers."""
        result: dict[str, list[str]] = self.request(
            "POST", "/billing-run", {"deliveries": deliveries}
        )
        return result["billing_documents"]

    def set_stock(
        self, *, material: str, plant: str, quantity: str, storage_location: str | None = None
    ) -> None:
        """Set unrestricted stock (the sandbox's stand-in for goods receipts)."""
        body = {
            "material": material,
            "plant": plant,
            "quantity": quantity,
            "storage_location": storage_location,
        }
        self.request("PUT", "/stock", body)

    def subscribe_events(
        self,
        *,
        name: str,
        endpoint: str,
        topics: list[str] | None = None,
        auth: dict[str, Any] | None = None,
        qos: int = 1,
        exempt_handshake: bool = False,
    ) -> dict[str, Any]:
        """Queue + topic subscription + webhook push in one call (handshake included)."""
        body = {
            "name": name,
            "endpoint": endpoint,
            "topics": topics or ["*"],
            "auth": auth,
            "qos": qos,
            "exempt_handshake": exempt_handshake,
        }
        result: dict[str, Any] = self.request("POST", "/event-subscriptions", body)
        return result

    def deliveries(self, *, subscription: str | None = None) -> list[dict[str, Any]]:
        """Webhook push attempts (status 0 = connection failed)."""
        return self.listing("/deliveries", subscription=subscription or None)


@dataclass(frozen=True)
class SandboxS4:
    """A running S/4HANA sandbox."""

    base_url: str
    ca_file: Path
    admin: SandboxS4Admin
    user: str = COMM_USER
    password: str = COMM_PASSWORD
    client_id: str = OAUTH_CLIENT_ID
    client_secret: str = OAUTH_CLIENT_SECRET

    @property
    def basic_auth(self) -> tuple[str, str]:
        """(user, password) of the communication user."""
        return (self.user, self.password)

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context trusting the sandbox's CA (``httpx.Client(verify=...)``)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 client-credentials token endpoint."""
        return f"{self.base_url}/sap/bc/sec/oauth2/token"

    def service_url(self, service: str) -> str:
        """Service root of an OData service, with the trailing slash."""
        return f"{self.base_url}/sap/opu/odata/sap/{service}/"


@contextmanager
def running_sandbox_s4(
    folder: Path, tls: LocalTls, *, env: dict[str, str] | None = None
) -> Iterator[SandboxS4]:
    """The S/4HANA sandbox as a real HTTPS subprocess on a free loopback port, seeded."""
    process = SandboxProcess(module="isthmus.sandbox_s4", folder=folder, tls=tls, env=env)
    with running(process), SandboxS4Admin(base_url=process.base_url, ca_file=tls.ca_cert) as admin:
        yield SandboxS4(process.base_url, tls.ca_cert, admin)


@pytest.fixture(scope="session")
def sandbox_s4(
    local_tls: LocalTls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxS4]:
    """One sandbox process over HTTPS (local CA) on a free loopback port, seeded."""
    external = os.environ.get("ISTHMUS_TEST_SANDBOX_S4")
    if external:
        ca_file = Path(os.environ.get("ISTHMUS_TEST_SANDBOX_S4_CA", str(local_tls.ca_cert)))
        yield SandboxS4(external, ca_file, SandboxS4Admin(base_url=external, ca_file=ca_file))
        return
    folder = tmp_path_factory.mktemp("sandbox-s4")
    env = {
        "ISTHMUS_SANDBOX_S4_WEBHOOK_CA_FILE": str(local_tls.ca_cert),
        "ISTHMUS_SANDBOX_S4_WEBHOOK_RETRY_BASE_S": "0.2",
        "ISTHMUS_SANDBOX_S4_PARENT_PID": str(os.getpid()),
    }
    with running_sandbox_s4(folder, local_tls, env=env) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox_s4_clean(sandbox_s4: SandboxS4) -> SandboxS4:
    """The session sandbox, reset to the seed catalogue with no faults before the test."""
    sandbox_s4.admin.reset(seed=True)
    return sandbox_s4
