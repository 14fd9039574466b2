"""Settings of d365-sink: environment prefix ``ISTHMUS_D365_SINK_``, ``__`` nesting."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from isthmus.connectors.d365.settings import D365Settings
from isthmus.kafka.settings import ProcessorSettings, keep_processor_defaults
from isthmus.sink.settings import SinkServiceSettings

_PROCESSOR: dict[str, Any] = {"group_id": "d365-sink", "batch_size": 500, "stall_timeout_s": 300.0}


class D365SinkSettings(SinkServiceSettings):
    """Everything d365-sink needs, built once in ``__main__``.

    ``ISTHMUS_D365_SINK_D365__ENVIRONMENT_URL``, ``ISTHMUS_D365_SINK_D365__CLIENT_SECRET``,
    ``ISTHMUS_D365_SINK_KAFKA__BOOTSTRAP_SERVERS``, ``ISTHMUS_D365_SINK_SINK__MODE`` ...
    """

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_D365_SINK_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    processor: ProcessorSettings = Field(default_factory=lambda: ProcessorSettings(**_PROCESSOR))
    d365: D365Settings

    @model_validator(mode="before")
    @classmethod
    def _sink_processor(cls, data: Any) -> Any:
        return keep_processor_defaults(data, _PROCESSOR)
