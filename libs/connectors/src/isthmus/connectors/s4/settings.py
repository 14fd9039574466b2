"""Settings of the S/4HANA client; cloud and on-premise differ only in these values."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, SecretStr

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.retry import RetryPolicy

AuthMethod = Literal["basic", "oauth", "x509"]


class S4Settings(BaseModel):
    """How to reach one S/4HANA system with one communication user or OAuth client.

    Cloud: ``base_url=https://myNNNNNN-api.s4hana.cloud.sap``, no ``sap_client``. On-premise:
    ``base_url=https://host:port`` and ``sap_client="100"``. ``auth`` picks Basic (``user`` +
    ``password``), OAuth client credentials (``oauth_token_url``, ``client_id``,
    ``client_secret``, optional ``oauth_scope``) or X.509 (``client_cert`` + ``client_key``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    sap_client: str | None = None
    language: str = "EN"
    auth: AuthMethod = "basic"
    user: str | None = None
    password: SecretStr | None = None
    oauth_token_url: str | None = Field(
        default=None, description="Default: /sap/bc/sec/oauth2/token"
    )
    client_id: str | None = None
    client_secret: SecretStr | None = None
    oauth_scope: str | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    ca_bundle: Path | None = None
    odata_root: str = "/sap/opu/odata/sap"
    journal_entry_path: str = "/sap/bc/srt/scs_ext/sap/journalentrycreaterequestconfi"
    timeout_seconds: PositiveFloat = 60.0
    csrf_sessions: PositiveInt = Field(default=8, description="CSRF token + cookie pairs kept.")
    page_size: PositiveInt = 500
    limits: BudgetLimits = Field(
        default_factory=lambda: BudgetLimits(
            requests_per_window=None, execution_seconds_per_window=None, max_concurrency=16
        ),
        description="S/4 publishes no quota; the default only caps concurrency.",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @property
    def credential_name(self) -> str:
        """A non-secret name of the credential, for the governor and metrics."""
        who = self.client_id if self.auth == "oauth" else self.user
        if self.auth == "x509":
            who = str(self.client_cert)
        return f"s4:{self.base_url}:{self.sap_client or '-'}:{who}"

    def service_url(self, service: str) -> str:
        """Root URL of an OData service, ending in a slash."""
        return f"{self.base_url.rstrip('/')}{self.odata_root}/{service}/"

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint."""
        return self.oauth_token_url or f"{self.base_url.rstrip('/')}/sap/bc/sec/oauth2/token"
