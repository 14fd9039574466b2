"""Configuration of the Dataverse sandbox (environment prefix ``ISTHMUS_SANDBOX_D365_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from isthmus.sandbox_kit.listener import ListenerSettings


class SandboxSettings(ListenerSettings):
    """Everything the sandbox process needs; built once in ``__main__`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="ISTHMUS_SANDBOX_D365_", frozen=True)

    port: int = 8443
    db_path: Path = Path(".local/sandbox-d365/sandbox.db")
    seed: bool = True

    tenant_id: str = "0b1c5e2a-7d4f-4a8e-9c1b-3f5d2e6a7b80"
    tenant_domain: str = "isthmus.onmicrosoft.com"
    org_url: str = "https://isthmus.crm4.dynamics.com"
    organization_id: str = "6a3f1c2d-8e9b-4c7a-a1d2-5e6f7a8b9c0d"
    organization_name: str = "isthmus"
    business_unit_id: str = "d5807889-0f5f-ee11-8def-000d3adbef1f"
    client_id: str = "51f81489-12ee-4a9e-aaae-a2591f45987d"
    client_secret: SecretStr = SecretStr("sandbox-secret-value")
    token_lifetime_s: int = Field(default=3599, ge=1)
    api_resources: tuple[str, ...] = Field(
        default=("api://isthmus-ingress",),
        description="Application ID URIs of APIs (not Dataverse) whose /.default scope gets a "
        "token carrying the app's roles: the Isthmus publish API.",
    )
    client_roles: tuple[str, ...] = Field(
        default=("Events.Publish.Dataverse", "Events.Publish.S4"),
        description="App roles of the API resources assigned to the default app.",
    )

    throttle_requests: int = 6000
    throttle_execution_ms: int = 1_200_000
    throttle_window_s: float = 300.0
    throttle_concurrency: int = 52

    webhook_timeout_s: float = 60.0
    max_page_size: int = 5000
    call_log_size: int = 10_000
