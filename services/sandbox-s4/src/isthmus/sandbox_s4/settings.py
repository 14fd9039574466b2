"""Configuration of the S/4HANA sandbox (environment prefix `ISTHMUS_SANDBOX_S4_`)."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from isthmus.sandbox_kit.listener import ListenerSettings


class SandboxS4Settings(ListenerSettings):
    """Everything the sandbox process reads from its environment and command line."""

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_SANDBOX_S4_", frozen=True, populate_by_name=True
    )

    port: int = 44300
    tls_cert: Path | None = Field(default=None, validation_alias="ISTHMUS_SANDBOX_S4_CERT_FILE")
    tls_key: Path | None = Field(default=None, validation_alias="ISTHMUS_SANDBOX_S4_KEY_FILE")
    db_path: Path = Path(".local/sandbox-s4/sandbox-s4.db")
    seed_on_start: bool = True
    parent_pid: int | None = None  # exit when this process is gone (set by test fixtures)

    comm_user: str = "ISTHMUS_COMM"
    comm_password: SecretStr = SecretStr("Isthmus-Sandbox-1")
    oauth_client_id: str = "ISTHMUS_OAUTH"
    oauth_client_secret: SecretStr = SecretStr("Isthmus-OAuth-Secret-1")
    signing_key: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    token_ttl_s: int = 3600
    csrf_ttl_s: float = 1800.0

    page_size: int = 1000
    require_if_match: bool = True
    max_body_bytes: int = 10 * 1024 * 1024

    system_id: str = "S4H"
    client: str = "100"
    event_namespace: str = "default/sap.s4/S4H"
    webhook_origin: str = "localhost"
    webhook_ca_file: Path | None = None
    webhook_retry_base_s: float = 0.5

    @property
    def event_source(self) -> str:
        """CloudEvents `source`: `/default/sap.s4.beh/<SID>CLNT<client>`."""
        return f"/default/sap.s4.beh/{self.system_id}CLNT{self.client}"

    @property
    def logical_system(self) -> str:
        """The logical system name used in posting messages."""
        return f"{self.system_id}CLNT{self.client}"
