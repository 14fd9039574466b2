"""pytest fixtures for the Dataverse sandbox: a real HTTPS server process per test session."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from isthmus.devenv.tls import LocalTls
from isthmus.testing.sandbox_admin import SandboxAdminClient
from isthmus.testing.sandbox_process import SandboxProcess, running

TENANT_ID = "0b1c5e2a-7d4f-4a8e-9c1b-3f5d2e6a7b80"
CLIENT_ID = "51f81489-12ee-4a9e-aaae-a2591f45987d"
CLIENT_SECRET = "sandbox-secret-value"  # noqa: S105 - the sandbox's documented test secret
ORG_URL = "https://isthmus.crm4.dynamics.com"
PUBLISH_API = "api://isthmus-ingress"
"""Application ID URI of the publish API in the Entra emulator (its roles open topic families)."""


class SandboxAdmin(SandboxAdminClient):
    """The sandbox's ``/_sandbox`` admin API (see services/sandbox-d365/README.md)."""

    def reset(self, *, seed: bool = True) -> None:
        """Empty the organisation (then re-seed), drop faults, calls, deliveries, throttling."""
        self.request("POST", "/reset", params={"with_seed": str(seed).lower()})

    def calls(
        self, *, method: str | None = None, path: str | None = None, status: int | None = None
    ) -> list[dict[str, Any]]:
        """Calls received (``path`` is a prefix such as ``/api/data/v9.2/salesorders``)."""
        return self.listing("/calls", method=method, path=path, status=status)

    def add_fault(self, **spec: Any) -> str:
        """Add a fault rule (kind, path, method, rate, times, latency_ms, status, ...)."""
        rule: dict[str, Any] = self.request("POST", "/faults", spec)
        return str(rule["id"])

    def set_throttling(
        self, *, requests: int, execution_ms: int, window_s: float, concurrency: int
    ) -> None:
        """Change the service protection limits (and forget the counters)."""
        body = {
            "requests": requests,
            "execution_ms": execution_ms,
            "window_s": window_s,
            "concurrency": concurrency,
        }
        self.request("PUT", "/throttling", body)

    def set_token_lifetime(self, seconds: int) -> None:
        """Lifetime (``expires_in``) of tokens issued from now on."""
        self.request("PUT", "/tokens", {"lifetime_s": seconds})

    def add_app(
        self,
        *,
        client_id: str,
        client_secret: str,
        application_user: bool = True,
        roles: tuple[str, ...] = (),
    ) -> None:
        """Register another app (``application_user=False`` → Web API answers 403), with the
        app roles its tokens for an API resource (``api://isthmus-ingress``) carry."""
        body = {
            "client_id": client_id,
            "client_secret": client_secret,
            "application_user": application_user,
            "roles": list(roles),
        }
        self.request("POST", "/apps", body)

    def add_webhook(self, **spec: Any) -> dict[str, str]:
        """Register a webhook (url, message, table, auth_type, auth_value/auth_pairs, ...)."""
        result: dict[str, str] = self.request("POST", "/webhooks", spec)
        return result

    def deliveries(
        self,
        *,
        failed: bool | None = None,
        entity: str | None = None,
        message: str | None = None,
        body: bool = False,
    ) -> list[dict[str, Any]]:
        """Webhook deliveries made so far (with ``body``: each with the context it posted)."""
        return self.listing(
            "/webhooks/deliveries",
            failed=None if failed is None else str(failed).lower(),
            entity=entity,
            message=message,
            body="true" if body else None,
        )

    def redeliver(self, delivery_id: str) -> dict[str, Any]:
        """Send an earlier webhook delivery's request again, byte for byte; the new delivery."""
        result: dict[str, Any] = self.request(
            "POST", f"/webhooks/deliveries/{delivery_id}/redeliver"
        )
        return result


@dataclass(frozen=True)
class SandboxD365:
    """A running sandbox: URLs, credentials, CA and the admin helper.

    Use ``sandbox_d365`` (session scope) for URLs and credentials, and ``sandbox_d365_clean``
    (function scope) when a test needs the seeded catalogue without the faults, webhooks, call
    log or throttling changes of earlier tests::

        def test_order(sandbox_d365_clean):
            with sandbox_d365_clean.api_client() as client:
                client.get("accounts").raise_for_status()
            assert sandbox_d365_clean.admin.calls(method="GET", path="/api/data/v9.2/accounts")

    MSAL: ``authority=sandbox.authority``, ``scopes=[sandbox.scope]``,
    ``instance_discovery=False`` (else a failed token call makes MSAL look up aliases at the
    real login.microsoftonline.com), and an
    ``http_client=requests.Session()`` with ``trust_env = False`` and
    ``verify=str(sandbox.ca_file)`` (the machine's REQUESTS_CA_BUNDLE would otherwise win).
    """

    base_url: str
    tenant_id: str
    client_id: str
    client_secret: str
    ca_file: Path
    admin: SandboxAdmin

    @property
    def verify(self) -> ssl.SSLContext:
        """An SSL context trusting the local CA, for ``httpx`` (``verify=sandbox.verify``)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    @property
    def api_url(self) -> str:
        """The Web API root, ``https://127.0.0.1:<port>/api/data/v9.2``."""
        return f"{self.base_url}/api/data/v9.2"

    @property
    def authority(self) -> str:
        """The MSAL authority, ``https://127.0.0.1:<port>/<tenant>``."""
        return f"{self.base_url}/{self.tenant_id}"

    @property
    def token_url(self) -> str:
        """The client-credentials token endpoint."""
        return f"{self.authority}/oauth2/v2.0/token"

    @property
    def scope(self) -> str:
        """The scope to request: the org URL plus ``/.default``."""
        return f"{ORG_URL}/.default"

    @property
    def jwks_url(self) -> str:
        """The tenant's signing keys."""
        return f"{self.authority}/discovery/v2.0/keys"

    @property
    def issuer(self) -> str:
        """The ``iss`` of the tokens the emulator issues (v1 form)."""
        return f"https://sts.windows.net/{self.tenant_id}/"

    def token(
        self,
        *,
        scope: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> str:
        """A fresh access token (plain POST, no MSAL); by default the default app's for
        Dataverse, ``scope=f"{PUBLISH_API}/.default"`` for the publish API."""
        form = {
            "grant_type": "client_credentials",
            "client_id": client_id or self.client_id,
            "client_secret": client_secret or self.client_secret,
            "scope": scope or self.scope,
        }
        response = httpx.post(self.token_url, data=form, verify=self.verify, timeout=30)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def api_client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the Web API root with a bearer token and the OData headers."""
        headers = {
            "Authorization": f"Bearer {self.token()}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            **kwargs.pop("headers", {}),
        }
        return httpx.Client(
            base_url=f"{self.api_url}/",
            headers=headers,
            verify=self.verify,
            timeout=30,
            **kwargs,
        )


@contextmanager
def running_sandbox_d365(folder: Path, tls: LocalTls) -> Iterator[SandboxD365]:
    """The Dataverse sandbox as a real HTTPS subprocess on a free loopback port."""
    process = SandboxProcess(module="isthmus.sandbox_d365", folder=folder, tls=tls)
    with running(process), SandboxAdmin(base_url=process.base_url, ca_file=tls.ca_cert) as admin:
        yield SandboxD365(
            base_url=process.base_url,
            tenant_id=TENANT_ID,
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            ca_file=tls.ca_cert,
            admin=admin,
        )


@pytest.fixture(scope="session")
def sandbox_d365(
    local_tls: LocalTls, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SandboxD365]:
    """The Dataverse sandbox of the test session (see ``running_sandbox_d365``)."""
    with running_sandbox_d365(tmp_path_factory.mktemp("sandbox-d365"), local_tls) as sandbox:
        yield sandbox


@pytest.fixture
def sandbox_d365_clean(sandbox_d365: SandboxD365) -> SandboxD365:
    """The session sandbox reset to the seeded catalogue, with no faults, calls or webhooks."""
    sandbox_d365.admin.reset(seed=True)
    return sandbox_d365
