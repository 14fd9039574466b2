"""Composition root of d365-sink: builds every client once; tests pass overrides."""

from __future__ import annotations

from pathlib import Path

from isthmus.connectors.d365.client import DataverseClient
from isthmus.connectors.governor import ApiGovernor
from isthmus.d365_sink.adapters.dataverse_executor import ENTITIES, DataverseExecutor
from isthmus.d365_sink.settings import D365SinkSettings
from isthmus.sink.assembly import SinkRuntime, build_runtime, sink_event_loop

SERVICE = "d365-sink"


def build(
    settings: D365SinkSettings, *, root: Path | None = None, governor: ApiGovernor | None = None
) -> SinkRuntime:
    """Build d365-sink: Dataverse client, executor, codecs and the loop."""
    aio = sink_event_loop()
    client = DataverseClient.connect(settings=settings.d365, governor=governor)
    executor = DataverseExecutor(
        client=client,
        batched=settings.sink.mode == "batched",
        batch_size=settings.d365.batch_size,
        concurrency=settings.sink.concurrency,
    )
    return build_runtime(
        service=SERVICE,
        system="d365",
        entities=ENTITIES,
        settings=settings,
        processor=settings.processor,
        root=root or Path.cwd(),
        executor=executor,
        xref=None,
        aio=aio,
    )
