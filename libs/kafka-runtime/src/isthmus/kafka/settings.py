"""Kafka connection settings shared by every Isthmus process."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from isthmus.kafka.client_logs import CLIENT_LOG

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
ClientConfig = dict[str, Any]
"""librdkafka properties as confluent-kafka's clients take them (plus its callbacks)."""


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

        Secrets are revealed here and nowhere else; the returned dict must never be logged. The
        client's own logs and errors go through Python logging, one line per episode
        (``isthmus.kafka.client_logs``), instead of librdkafka's stderr lines.
        """
        config: ClientConfig = {
            "logger": CLIENT_LOG,
            "error_cb": CLIENT_LOG.error,
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


class ProcessorSettings(BaseModel):
    """How one processing loop consumes, retries and commits.

    Services compose it beside ``KafkaSettings`` (e.g. under the field name ``processor``), so
    ``ISTHMUS_SAP_SINK_PROCESSOR__EXACTLY_ONCE=true`` switches a sink to transactions.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_id: str = Field(description="Consumer group; also names its retry, DLQ, parked topics.")
    instance_id: str = Field(
        default="0",
        description="Stable id of this replica; the transactional.id is <group_id>-<instance_id>.",
    )
    exactly_once: bool = Field(
        default=False, description="Kafka transactions: outputs and offsets commit atomically."
    )
    static_membership: bool = Field(
        default=False,
        description="Join with group.instance.id=<group_id>-<instance_id>, so a restarted "
        "replica takes its partitions back at once (instance_id must be unique per replica).",
    )
    batch_size: int = Field(default=500, ge=1, le=100_000)
    poll_timeout_s: float = Field(
        default=0.2,
        gt=0,
        le=30,
        description="Longest wait for a record when none has arrived; a poll takes what has "
        "arrived and never waits for its batch to fill.",
    )
    in_place_attempts: int = Field(
        default=3, ge=1, le=20, description="Handler calls per record before the retry topics."
    )
    in_place_backoff_s: float = Field(default=0.1, ge=0, le=30)
    in_place_backoff_max_s: float = Field(default=1.0, ge=0, le=60)
    retry_template: str | None = Field(
        default=None,
        description="Group whose retry delays deploy/topics.yaml declares (default: group_id).",
    )
    retry_delays_ms: tuple[int, ...] | None = Field(
        default=None, description="Retry tier delays; overrides the catalogue when set."
    )
    transaction_timeout_ms: int = Field(default=60_000, ge=1_000)
    max_in_flight_batches: int = Field(default=8, ge=1, le=1_000)
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"
    shutdown_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait for outputs to be acknowledged on close or rebalance; the "
        "process exits anyway 2 x this + 5 s after SIGTERM.",
    )
    stall_timeout_s: float = Field(
        default=120.0,
        gt=0,
        description="A batch, rebalance callback or close that lasts longer, or no poll for "
        "this long, makes liveness fail and the process exit with code 70 (restart).",
    )
    consumer_extra: dict[str, str] = Field(default_factory=dict)
    producer_extra: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _stall_outlasts_transactions(self) -> ProcessorSettings:
        if self.exactly_once and self.stall_timeout_s * 1000 <= self.transaction_timeout_ms:
            msg = (
                f"stall_timeout_s ({self.stall_timeout_s}) must exceed transaction_timeout_ms "
                f"({self.transaction_timeout_ms} ms): a transaction call may use all of it"
            )
            raise ValueError(msg)
        return self

    @property
    def transactional_id(self) -> str:
        """The producer's ``transactional.id`` (stable per replica, so restarts fence zombies)."""
        return f"{self.group_id}-{self.instance_id}"


def keep_processor_defaults(data: Any, defaults: dict[str, Any]) -> Any:
    """A service settings model's raw input with its own processor ``defaults`` kept under
    ``processor`` for every field the environment does not set.

    Call it from a ``model_validator(mode="before")``: without it one nested variable such as
    ``..._PROCESSOR__CONSUMER_EXTRA`` replaces the whole default processor, losing its group
    (a validation error) or its batch size and stall timeout (silently).
    """
    if isinstance(data, dict) and isinstance(data.get("processor"), dict):
        return {**data, "processor": {**defaults, **data["processor"]}}
    return data
