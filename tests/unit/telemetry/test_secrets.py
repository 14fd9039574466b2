"""Outside the local profile a service refuses placeholder, empty or shipped-default secrets."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from isthmus.telemetry.secrets import (
    PlaceholderSecretError,
    placeholder_secrets,
    profile,
    refuse_placeholder_secrets,
)


class Key(BaseModel):
    secret: SecretStr
    roles: tuple[str, ...] = ()


class Source(BaseModel):
    user: str = "events"
    password: SecretStr = SecretStr("shipped-default-value")
    token: SecretStr | None = None


class Example(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ISTHMUS_EXAMPLE_", env_nested_delimiter="__")

    source: Source = Source()
    pairs: dict[str, SecretStr] = {"code": SecretStr("change-me")}
    keys: dict[str, Key] = {}
    api_secret: SecretStr = SecretStr("")


def test_placeholders_empty_and_shipped_defaults_are_named_by_their_variable() -> None:
    settings = Example(keys={"batch": Key(secret=SecretStr("Secret"))})
    assert placeholder_secrets(settings) == [
        "ISTHMUS_EXAMPLE_SOURCE__PASSWORD",
        "ISTHMUS_EXAMPLE_PAIRS[code]",
        "ISTHMUS_EXAMPLE_KEYS[batch]__SECRET",
        "ISTHMUS_EXAMPLE_API_SECRET",
    ]


def test_real_secrets_and_unset_optional_ones_pass() -> None:
    settings = Example(
        source=Source(password=SecretStr("t0k-4f9a")),
        pairs={"code": SecretStr("9d1c0f")},
        api_secret=SecretStr("k-77a1"),
    )
    assert placeholder_secrets(settings) == []
    refuse_placeholder_secrets(settings, service="example", environ={})


def test_the_process_refuses_to_start_outside_the_local_profile() -> None:
    with pytest.raises(PlaceholderSecretError) as refused:
        refuse_placeholder_secrets(Example(), service="example", environ={})
    message = str(refused.value)
    assert message.startswith("example refuses to start with placeholder or empty secrets: ")
    assert "ISTHMUS_EXAMPLE_SOURCE__PASSWORD" in message
    assert "ISTHMUS_PROFILE=local" in message
    refuse_placeholder_secrets(Example(), service="example", environ={"ISTHMUS_PROFILE": "local"})


def test_the_profile_is_production_unless_explicitly_local() -> None:
    assert profile({}) == "production"
    assert profile({"ISTHMUS_PROFILE": "local"}) == "local"
    with pytest.raises(PlaceholderSecretError, match="expected 'production' or 'local'"):
        profile({"ISTHMUS_PROFILE": "dev"})
