"""Composition root of sap-sink: builds every client once; tests pass overrides."""

from __future__ import annotations

from pathlib import Path

from isthmus.connectors.governor import ApiGovernor
from isthmus.connectors.s4.client import S4Client
from isthmus.sap_sink.adapters.s4_executor import ENTITIES, S4Executor
from isthmus.sap_sink.settings import SapSinkSettings
from isthmus.sink.assembly import SinkRuntime, build_runtime, sink_event_loop
from isthmus.sink.xref import XrefKeys

SERVICE = "sap-sink"


def build(
    settings: SapSinkSettings, *, root: Path | None = None, governor: ApiGovernor | None = None
) -> SinkRuntime:
    """Build sap-sink: S/4 client, xref reader, executor, codecs and the loop."""
    aio = sink_event_loop()
    client = S4Client.connect(settings=settings.s4, governor=governor)
    xref = XrefKeys(
        kafka=settings.kafka, topic=f"{settings.sink.topic_prefix}{settings.sink.xref_topic}"
    )
    concurrency = settings.sink.concurrency if settings.sink.mode == "batched" else 1
    executor = S4Executor(
        client=client,
        xref=xref,
        concurrency=concurrency,
        billing_run_url=settings.billing_run_url,
        batch_size=settings.batch_size,
        rejection_reason=settings.item_rejection_reason,
    )
    return build_runtime(
        service=SERVICE,
        system="s4",
        entities=ENTITIES,
        settings=settings,
        processor=settings.processor,
        root=root or Path.cwd(),
        executor=executor,
        xref=xref,
        aio=aio,
    )
