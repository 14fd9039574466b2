"""``isthmus trace <business key>``: the timeline of one record across every hop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from confluent_kafka.serialization import MessageField, SerializationContext
from rich.console import Console
from rich.table import Table

from isthmus.cli.settings import load_settings
from isthmus.cli.timeline import Hop, timeline
from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.kafka.scan import scan_topic
from isthmus.schemas.errors import SchemaError
from isthmus.schemas.factory import SerdeFactory
from isthmus.schemas.settings import SchemaSettings

out = Console()
err = Console(stderr=True)

_OUTCOME_STYLE = {
    "SUCCEEDED": "green",
    "DEAD_LETTERED": "red",
    "FAILED": "red",
    "RETRIED": "yellow",
}


def trace(
    key: Annotated[str, typer.Argument(help="Business key: D365 id, S/4 number, ...")],
    bootstrap_servers: Annotated[str | None, typer.Option(help="Kafka bootstrap servers.")] = None,
    schemas_dir: Annotated[Path, typer.Option(help="The Avro catalogue.")] = Path("schemas"),
    registry_url: Annotated[str | None, typer.Option(help="Schema registry URL.")] = None,
    topic: Annotated[str, typer.Option(help="The audit topic.")] = AUDIT_TOPIC,
) -> None:
    """Print every audit event of KEY and of the hops correlated with it, oldest first."""
    settings = load_settings(bootstrap_servers=bootstrap_servers)
    serde = SerdeFactory(
        settings=SchemaSettings(schemas_dir=schemas_dir, registry_url=registry_url)
    )
    decode = serde.deserializer(value_schema=AUDIT_SCHEMA)
    context = SerializationContext(topic, MessageField.VALUE)
    try:
        decoded = (
            decode(m.value(), context) for m in scan_topic(kafka=settings.kafka, topic=topic)
        )
        hops = [Hop.of(event) for event in decoded if event is not None]
    except (IsthmusKafkaError, SchemaError) as exc:
        err.print(f"[red]cannot read {topic}: {exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        serde.close()
    journey = timeline(hops, key=key)
    if not journey:
        err.print(f"no audit events for {key!r} in {topic}")
        raise typer.Exit(1)
    _print(key, journey)


def _print(key: str, journey: list[Hop]) -> None:
    traces = sorted({hop.trace_id for hop in journey if hop.trace_id})
    table = Table(title=f"{key}: {len(journey)} hops; trace {', '.join(traces) or '-'}")
    for column in ("time (UTC)", "service", "stage", "what", "outcome", "attempt", "key", "detail"):
        table.add_column(column, overflow="fold")
    for hop in journey:
        style = _OUTCOME_STYLE.get(hop.outcome, "")
        detail = hop.error or hop.target_id or hop.flow or hop.source or ""
        table.add_row(
            hop.occurred_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            hop.service,
            hop.stage,
            hop.what,
            f"[{style}]{hop.outcome}[/{style}]" if style else hop.outcome,
            str(hop.attempt),
            hop.business_key,
            detail,
        )
    out.print(table)
