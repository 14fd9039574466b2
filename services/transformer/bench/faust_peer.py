"""Peer (B3): a faust-streaming agent doing the transformer's mapping on the same input.

Run as ``python faust_peer.py BOOTSTRAP GROUP SOURCE OUTPUT REPO XREF_JSON GUARANTEE``; stops on
SIGTERM. Same work per record as the transformer: Avro decode, trigger match, the compiled
sales-order flow (mapping + validation) with the same xref pairs, command header, Avro encode,
produce with flow headers. GUARANTEE is Faust's ``processing_guarantee``: ``at_least_once`` (its
default) or ``exactly_once`` (transactions, like the transformer); aiokafka driver either way.
"""

from __future__ import annotations

import io
import json
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
import faust

from isthmus.mapping import InMemoryLookups, load_flows
from isthmus.schemas import SchemaCatalogue

EVENT = "io.isthmus.d365.SalesOrderEvent"
_HEADER = 10


def build(argv: list[str]) -> faust.App:
    """The Faust app with its one agent."""
    bootstrap, group, source, output, repo, xref, guarantee = argv
    flow = load_flows(Path(repo) / "flows")["d365-salesorder-to-s4"]
    lookups = InMemoryLookups({"account": json.loads(Path(xref).read_text())})
    catalogue = SchemaCatalogue.load(Path(repo) / "schemas")
    reader, writer = catalogue.get(EVENT), catalogue.get(flow.target.command_type)
    prefix = b"\xc3\x01" + writer.fingerprint_bytes
    name = f"{flow.id}@{flow.version}"
    app = faust.App(
        group, broker=f"kafka://{bootstrap}", store="memory://", web_enabled=False,
        topic_partitions=6, consumer_auto_offset_reset="earliest", producer_linger=0.005,
        processing_guarantee=guarantee,
    )  # fmt: skip
    inbound = app.topic(source, key_serializer="raw", value_serializer="raw")
    outbound = app.topic(output, key_serializer="raw", value_serializer="raw")

    def transform(raw: bytes) -> bytes | None:
        event: Any = fastavro.schemaless_reader(io.BytesIO(raw[_HEADER:]), reader.parsed, None)
        if not flow.matches(event["envelope"]["message"], event):
            return None
        result = flow.apply(event, lookups)
        if result.target is None:
            return None
        envelope = event["envelope"]
        header = {
            **result.target["header"],
            "commandId": str(uuid.uuid4()),
            "issuedAt": datetime.now(UTC),
            "flow": name,
            "causationId": envelope["eventId"],
            "correlationId": envelope["correlationId"],
        }
        out = io.BytesIO()
        out.write(prefix)
        fastavro.schemaless_writer(out, writer.parsed, {**result.target, "header": header})
        return out.getvalue()

    headers = {"isthmus_flow": flow.id.encode(), "isthmus_flow_version": str(flow.version).encode()}

    @app.agent(inbound)
    async def mapper(stream: Any) -> None:
        async for key, value in stream.items():
            command = transform(value)
            if command is not None:
                await outbound.send(key=key, value=command, headers=headers)

    return app


if __name__ == "__main__":
    peer = build(sys.argv[1:8])
    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    peer.main()
