"""Settings of one sink loop (``sink``), and what every sink service's settings hold."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings

from isthmus.kafka.settings import KafkaSettings
from isthmus.schemas.settings import SchemaSettings


class SinkSettings(BaseModel):
    """How a sink batches, waits for prerequisites, breaks the circuit and serves health.

    ``ISTHMUS_SAP_SINK_SINK__DEPENDENCY_WAIT_S=600`` sets the longest wait for a prerequisite.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    topic_prefix: str = Field(
        default="", description="Prefix of every topic name (tests and second deployments)."
    )
    entities: tuple[str, ...] | None = Field(
        default=None, description="Entities whose command topics to consume (None: all)."
    )
    mode: Literal["batched", "single"] = Field(
        default="batched",
        description="batched: waves run concurrently and as target batches; single: one "
        "request per command, one at a time (the baseline of the benchmark).",
    )
    concurrency: int = Field(default=16, ge=1, le=256, description="Commands in flight.")
    dependency_wait_s: float = Field(
        default=3600.0, gt=0, description="How long a command waits for its prerequisite."
    )
    breaker_threshold: int = Field(default=5, ge=1, description="Unavailable in a row to open.")
    breaker_open_s: float = Field(default=5.0, gt=0, description="First open period.")
    breaker_max_open_s: float = Field(default=60.0, gt=0)
    auth_pause_s: float = Field(
        default=30.0, gt=0, description="Pause after a persistent authentication failure."
    )
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8080, ge=0, le=65535, description="0: any free port.")
    xref_topic: str = Field(default="xref.ids", description="Without the prefix.")


class SinkServiceSettings(BaseSettings):
    """The settings every sink service has besides its target and its ``processor`` (each
    sink declares those with its own environment prefix and processor defaults)."""

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    sink: SinkSettings = Field(default_factory=SinkSettings)
    schemas: SchemaSettings = Field(default_factory=SchemaSettings)
    catalogue: Path = Field(
        default=Path("deploy/topics.yaml"), description="Where the retry delays are declared."
    )
    log_level: str = "INFO"
