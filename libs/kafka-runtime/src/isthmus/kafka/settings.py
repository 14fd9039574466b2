"""Kafka connection settings shared by every Isthmus process."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
ClientConfig = dict[str, str | int | float | bool]
"""librdkafka properties as confluent-kafka's clients take them."""


class KafkaSettings(BaseModel):
    """How to reach the Kafka cluster.

    Services compose this into their own pydantic-settings class under the field name ``kafka``,
    so with the env prefix ``ISTHMUS_TRANSFORMER_`` and the nested delimiter ``__`` the bootstrap
    servers come from ``ISTHMUS_TRANSFORMER_KAFKA__BOOTSTRAP_SERVERS``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Comma-separated host:port list of brokers."
    )
    client_id: str = Field(default="isthmus", description="client.id sent to the brokers.")
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = Field(default=None, description="PEM file with trusted CAs.")
    ssl_certificate_location: str | None = Field(default=None, description="Client certificate.")
    ssl_key_location: str | None = Field(default=None, description="Client private key.")
    ssl_key_password: SecretStr | None = None
    extra: dict[str, str] = Field(
        default_factory=dict,
        description="Further librdkafka properties, passed through unchanged.",
    )

    def client_config(self) -> ClientConfig:
        """Return the librdkafka properties common to producers, consumers and admin clients.

        Secrets are revealed here and nowhere else; the returned dict must never be logged.
        """
        config: ClientConfig = {
            "bootstrap.servers": self.bootstrap_servers,
            "client.id": self.client_id,
            "security.protocol": self.security_protocol,
        }
        optional: dict[str, str | None] = {
            "sasl.mechanism": self.sasl_mechanism,
            "sasl.username": self.sasl_username,
            "sasl.password": _reveal(self.sasl_password),
            "ssl.ca.location": self.ssl_ca_location,
            "ssl.certificate.location": self.ssl_certificate_location,
            "ssl.key.location": self.ssl_key_location,
            "ssl.key.password": _reveal(self.ssl_key_password),
        }
        config.update({key: value for key, value in optional.items() if value is not None})
        config.update(self.extra)
        return config


def _reveal(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()
