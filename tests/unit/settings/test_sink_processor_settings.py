"""A sink's own processor defaults survive one processor variable from the environment."""

from __future__ import annotations

import pytest

from isthmus.d365_sink.settings import D365SinkSettings
from isthmus.sap_sink.settings import SapSinkSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("settings_class", "prefix", "group", "batch"),
    [
        (SapSinkSettings, "ISTHMUS_SAP_SINK_", "sap-sink", 200),
        (D365SinkSettings, "ISTHMUS_D365_SINK_", "d365-sink", 500),
    ],
)
def test_one_processor_variable_keeps_the_sinks_group_batch_and_stall_timeout(
    monkeypatch: pytest.MonkeyPatch,
    settings_class: type[SapSinkSettings] | type[D365SinkSettings],
    prefix: str,
    group: str,
    batch: int,
) -> None:
    monkeypatch.setenv(f"{prefix}S4__BASE_URL", "https://s4.example")
    monkeypatch.setenv(f"{prefix}D365__ENVIRONMENT_URL", "https://org.crm4.dynamics.com")
    monkeypatch.setenv(f"{prefix}D365__TENANT_ID", "0b1c5e2a-7d4f-4a8e-9c1b-3f5d2e6a7b80")
    monkeypatch.setenv(f"{prefix}D365__CLIENT_ID", "51f81489-12ee-4a9e-aaae-a2591f45987d")
    monkeypatch.setenv(f"{prefix}D365__CLIENT_SECRET", "a-secret")
    defaults = settings_class().processor
    monkeypatch.setenv(f"{prefix}PROCESSOR__CONSUMER_EXTRA", '{"max.poll.interval.ms": "10000"}')
    monkeypatch.setenv(f"{prefix}PROCESSOR__INSTANCE_ID", "2")

    processor = settings_class().processor

    assert (defaults.group_id, defaults.batch_size, defaults.stall_timeout_s) == (group, batch, 300)
    assert (processor.group_id, processor.batch_size, processor.stall_timeout_s) == (
        group,
        batch,
        300,
    )
    assert processor.consumer_extra == {"max.poll.interval.ms": "10000"}
    assert processor.transactional_id == f"{group}-2"
