"""Settings of the ``isthmus`` command, read from the environment once per invocation."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from isthmus.kafka.settings import KafkaSettings


class CliSettings(BaseSettings):
    """``ISTHMUS_KAFKA__BOOTSTRAP_SERVERS`` and friends (nested delimiter ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_", env_nested_delimiter="__", frozen=True, extra="ignore"
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)


def load_settings(*, bootstrap_servers: str | None) -> CliSettings:
    """The environment's settings, with ``--bootstrap-servers`` taking precedence."""
    settings = CliSettings()
    if bootstrap_servers:
        kafka = settings.kafka.model_copy(update={"bootstrap_servers": bootstrap_servers})
        settings = settings.model_copy(update={"kafka": kafka})
    return settings
