"""How a process reaches its schemas: the catalogue folder and, optionally, a schema registry."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class SchemaSettings(BaseModel):
    """Schema catalogue and registry settings, composed into a service's settings as ``schemas``.

    Without ``registry_url`` records are written in Avro single-object encoding and resolved
    against the local catalogue; with it, in Confluent framing with registry schema ids. Either
    way every deserializer reads both formats.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    schemas_dir: Path = Field(
        default=Path("schemas"), description="Folder holding the *.avsc catalogue."
    )
    registry_url: str | None = Field(
        default=None,
        description="Confluent-compatible schema registry, e.g. Apicurio's /apis/ccompat/v7.",
    )
    registry_username: str | None = Field(default=None, description="Basic auth user.")
    registry_password: SecretStr | None = Field(default=None, description="Basic auth password.")
    registry_ca_location: str | None = Field(default=None, description="PEM with trusted CAs.")
    registry_timeout_s: float = Field(default=10.0, gt=0, description="Per-request timeout.")
    registry_max_retries: int = Field(
        default=2, ge=0, description="Retries of the registry client itself before we give up."
    )
    registry_cooldown_s: float = Field(
        default=5.0,
        ge=0,
        description="After the registry failed to answer, calls fail at once for this long "
        "instead of each waiting out the timeout; then one call tries again.",
    )
    auto_register: bool = Field(
        default=True,
        description="Serializers register their schema under the topic's subject on first use; "
        "otherwise they only look the id up (schemas registered at provisioning time).",
    )

    def registry_config(self) -> dict[str, str | int | float]:
        """Configuration for ``SchemaRegistryClient``; reveals the password, never log it.

        Raises:
            ValueError: no registry URL is configured.
        """
        if self.registry_url is None:
            raise ValueError("no schema registry URL is configured")
        config: dict[str, str | int | float] = {
            "url": self.registry_url,
            "timeout": self.registry_timeout_s,
            "max.retries": self.registry_max_retries,
        }
        if self.registry_username is not None:
            password = self.registry_password.get_secret_value() if self.registry_password else ""
            config["basic.auth.user.info"] = f"{self.registry_username}:{password}"
        if self.registry_ca_location is not None:
            config["ssl.ca.location"] = self.registry_ca_location
        return config
