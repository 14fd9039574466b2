"""Shared pieces of the transformer unit tests: the shipped flows, samples and records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from isthmus.kafka.records import Record
from isthmus.mapping import InMemoryLookups
from isthmus.transformer.adapters.flow_files import load_flow_set
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.core.events import SourceEvent

REPO = Path(__file__).resolve().parents[3]
ACCOUNT = "00000000-0000-0000-0000-000000000020"
XREF = InMemoryLookups({"account": {ACCOUNT: "17100001"}})


def sample(name: str) -> dict[str, Any]:
    """A shipped sample event by file stem."""
    loaded: dict[str, Any] = json.loads((REPO / "flows" / "samples" / f"{name}.json").read_text())
    return loaded


def record(
    event: Any,
    *,
    topic: str = "d365.salesorder.events",
    offset: int = 7,
    headers: list[tuple[str, bytes]] | None = None,
    delivered_from: str = "",
    raw: bytes = b"raw-bytes",
) -> Record[Any, Any]:
    """A decoded input record as the runtime hands it to the handler."""
    return Record(
        topic=topic,
        partition=2,
        offset=offset,
        timestamp_ms=0,
        key="order-1",
        value=SourceEvent(value=event, raw=raw),
        headers=headers or [],
        delivered_from=delivered_from or topic,
        raw_key=b"order-1",
    )


@pytest.fixture(scope="session")
def flow_set() -> FlowSet:
    """Every shipped flow, loaded once."""
    return load_flow_set(REPO / "flows")
