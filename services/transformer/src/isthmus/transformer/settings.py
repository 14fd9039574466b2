"""Settings of the transformer process, read once from ``ISTHMUS_TRANSFORMER_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from isthmus.kafka.settings import KafkaSettings, ProcessorSettings
from isthmus.schemas.settings import SchemaSettings

SERVICE = "transformer"


# Range assigns every topic's partitions across the members on its own. Cooperative-sticky
# balances the total count over the source and retry topics together, which can leave a second
# replica with retry partitions only while the first keeps every source partition.
_ASSIGNMENT = {"partition.assignment.strategy": "range"}
# A transaction's records become visible only at its commit, and committing sends whatever still
# lingers at once; so a longer linger costs no latency here, it only packs a batch's records into
# fewer produce requests (about a tenth of the producer's per-record cost on the bench machine).
_PRODUCER = {"linger.ms": "50"}


def _processor_defaults() -> ProcessorSettings:
    return ProcessorSettings(
        group_id="transformer",
        exactly_once=True,
        consumer_extra=_ASSIGNMENT,
        producer_extra=_PRODUCER,
    )


class FlowSettings(BaseModel):
    """Where the flows are and how often the folder is checked for changes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: Path = Field(default=Path("flows"), description="Folder of the flow files.")
    reload_interval_s: float = Field(
        default=2.0, gt=0, description="How often flow files are checked for changes."
    )
    ignore_origins: tuple[str, ...] = Field(
        default=(),
        description="Origin user ids of the integration itself (its writes are not echoed).",
    )


class XrefSettings(BaseModel):
    """The compacted cross-reference topic the lookups read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic: str = "xref.ids"
    load_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest wait for the initial full read of the topic."
    )


class HttpSettings(BaseModel):
    """The /healthz, /readyz and /metrics endpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8085, ge=0, le=65535)


class TransformerSettings(BaseSettings):
    """Everything the transformer needs; nested values use ``__`` (e.g. ``…_KAFKA__EXTRA``)."""

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_TRANSFORMER_", env_nested_delimiter="__", frozen=True
    )

    kafka: KafkaSettings = Field(default_factory=lambda: KafkaSettings(client_id=SERVICE))
    processor: ProcessorSettings = Field(default_factory=_processor_defaults)
    schemas: SchemaSettings = Field(default_factory=SchemaSettings)
    flows: FlowSettings = Field(default_factory=FlowSettings)
    xref: XrefSettings = Field(default_factory=XrefSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    topics_file: Path = Field(
        default=Path("deploy/topics.yaml"),
        description="The topic catalogue: value schemas per topic and the retry tiers.",
    )
    log_level: str = "INFO"

    @model_validator(mode="before")
    @classmethod
    def _transformer_processor(cls, data: Any) -> Any:
        """Keep the transformer's processor defaults when only some fields come from the env.

        Without this, ``..._PROCESSOR__BATCH_SIZE=50`` alone would build a ProcessorSettings
        with the library defaults, silently turning exactly-once off.
        """
        if isinstance(data, dict) and isinstance(data.get("processor"), dict):
            processor = dict(data["processor"])
            processor.setdefault("group_id", "transformer")
            processor.setdefault("exactly_once", True)
            processor["consumer_extra"] = {**_ASSIGNMENT, **processor.get("consumer_extra", {})}
            processor["producer_extra"] = {**_PRODUCER, **processor.get("producer_extra", {})}
            data = {**data, "processor": processor}
        return data
