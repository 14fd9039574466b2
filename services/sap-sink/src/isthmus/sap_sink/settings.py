"""Settings of sap-sink: environment prefix ``ISTHMUS_SAP_SINK_``, ``__`` nesting."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from isthmus.connectors.s4.settings import S4Settings
from isthmus.kafka.settings import ProcessorSettings, keep_processor_defaults
from isthmus.sink.settings import SinkServiceSettings

_PROCESSOR: dict[str, Any] = {"group_id": "sap-sink", "batch_size": 200, "stall_timeout_s": 300.0}


class SapSinkSettings(SinkServiceSettings):
    """Everything sap-sink needs, built once in ``__main__``.

    ``ISTHMUS_SAP_SINK_S4__BASE_URL``, ``ISTHMUS_SAP_SINK_S4__PASSWORD``,
    ``ISTHMUS_SAP_SINK_KAFKA__BOOTSTRAP_SERVERS``, ``ISTHMUS_SAP_SINK_SINK__HEALTH_PORT`` ...
    """

    model_config = SettingsConfigDict(
        env_prefix="ISTHMUS_SAP_SINK_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    processor: ProcessorSettings = Field(default_factory=lambda: ProcessorSettings(**_PROCESSOR))
    s4: S4Settings
    billing_run_url: str | None = Field(
        default=None,
        description="Billing run endpoint standing in for SAP's billing (the sandbox's "
        "/_sandbox/billing-run); unset: billing commands are rejected.",
    )
    batch_size: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Sales orders per S/4 $batch in batched mode (one change set each); "
        "1: one request per order.",
    )
    item_rejection_reason: str = Field(
        default="10",
        max_length=2,
        description="SalesDocumentRjcnReason set on an S/4 item whose line a CHANGE no longer "
        "has (S/4 keeps cancelled lines as rejected items).",
    )

    @model_validator(mode="before")
    @classmethod
    def _sink_processor(cls, data: Any) -> Any:
        return keep_processor_defaults(data, _PROCESSOR)
