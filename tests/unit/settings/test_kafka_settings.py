"""Kafka settings compose into a service's settings and reach librdkafka unchanged."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from isthmus.kafka.client_logs import CLIENT_LOG
from isthmus.kafka.settings import KafkaSettings

pytestmark = pytest.mark.unit


class _ServiceSettings(BaseSettings):
    """How a service composes the library mixin under its own env prefix."""

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_EXAMPLE_", env_nested_delimiter="__", frozen=True
    )

    kafka: KafkaSettings = KafkaSettings()


def test_env_prefix_and_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__BOOTSTRAP_SERVERS", "broker-1:9093,broker-2:9093")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__SASL_USERNAME", "isthmus")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__SASL_PASSWORD", "s3cr3t")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__SSL_CA_LOCATION", "/etc/kafka/ca.pem")
    monkeypatch.setenv("ISTHMUS_EXAMPLE_KAFKA__EXTRA", '{"socket.timeout.ms": "30000"}')

    settings = _ServiceSettings()
    config = settings.kafka.client_config()

    assert config.pop("logger") is CLIENT_LOG  # librdkafka's lines through Python logging
    assert config.pop("error_cb") == CLIENT_LOG.error
    assert config == {
        "bootstrap.servers": "broker-1:9093,broker-2:9093",
        "client.id": "isthmus",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "isthmus",
        "sasl.password": "s3cr3t",
        "ssl.ca.location": "/etc/kafka/ca.pem",
        "socket.timeout.ms": "30000",
    }


def test_secrets_never_show_in_repr_or_dump() -> None:
    settings = KafkaSettings(sasl_password=SecretStr("s3cr3t"), ssl_key_password=SecretStr("k3y"))

    shown = repr(settings) + str(settings.model_dump()) + settings.model_dump_json()

    assert "s3cr3t" not in shown
    assert "k3y" not in shown


def test_settings_are_frozen_and_strict() -> None:
    settings = KafkaSettings()

    with pytest.raises(ValidationError):
        settings.bootstrap_servers = "elsewhere:9092"  # type: ignore[misc]  # proving it fails
    with pytest.raises(ValidationError, match="security_protocol"):
        KafkaSettings(security_protocol="TLS")  # type: ignore[arg-type]  # proving it fails
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        KafkaSettings(bootstrap="x")  # type: ignore[call-arg]  # proving it fails


def test_kraft_cluster_ids_never_start_with_a_dash() -> None:
    from isthmus.devenv.broker import _cluster_id  # noqa: PLC0415 - private helper under test

    ids = [_cluster_id() for _ in range(2_000)]

    assert all(len(cluster_id) == 22 and not cluster_id.startswith("-") for cluster_id in ids)
