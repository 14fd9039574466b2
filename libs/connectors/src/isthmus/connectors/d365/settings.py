"""Settings of the Dataverse client, composed by services under their own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, SecretStr

from isthmus.connectors.budget import BudgetLimits
from isthmus.connectors.retry import RetryPolicy


class D365Settings(BaseModel):
    """How to reach one Dataverse environment with one application user.

    ``authority_host`` is ``https://login.microsoftonline.com`` in Azure and the sandbox's HTTPS
    address locally; ``ca_bundle`` makes both MSAL and the Web API client trust a local CA.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    environment_url: str = Field(description="e.g. https://contoso.crm4.dynamics.com")
    tenant_id: str
    client_id: str
    client_secret: SecretStr
    authority_host: str = "https://login.microsoftonline.com"
    instance_discovery: bool = Field(
        default=False,
        description="Ask login.microsoftonline.com to validate a non-public authority host.",
    )
    scope: str | None = Field(default=None, description="Default: <environment_url>/.default")
    api_version: str = "v9.2"
    ca_bundle: Path | None = Field(default=None, description="PEM file of CAs to trust.")
    timeout_seconds: PositiveFloat = 30.0
    page_size: PositiveInt = Field(default=500, le=5000)
    batch_size: PositiveInt = Field(default=100, le=1000)
    token_refresh_margin_seconds: PositiveFloat = Field(
        default=300.0, description="Refresh this long before expiry (capped at 10% of lifetime)."
    )
    limits: BudgetLimits = Field(default_factory=BudgetLimits)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)

    @property
    def authority(self) -> str:
        """The Entra ID authority URL MSAL is built with."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"

    @property
    def api_url(self) -> str:
        """Base URL of the Web API, ending in a slash."""
        return f"{self.environment_url.rstrip('/')}/api/data/{self.api_version}/"

    @property
    def token_scope(self) -> str:
        """The client-credentials scope: the environment URL plus ``/.default``."""
        return self.scope or f"{self.environment_url.rstrip('/')}/.default"
