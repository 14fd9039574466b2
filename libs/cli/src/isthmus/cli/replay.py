"""``isthmus replay``: browse dead letters and move chosen ones back to their source topics."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from isthmus.cli.settings import load_settings
from isthmus.kafka.errors import ErrorClass, ReplayError
from isthmus.kafka.replay import ReplayReport, ReplaySelection, replay_dead_letters

app = typer.Typer(help="Browse and replay dead-lettered records.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

Dlq = Annotated[str, typer.Argument(help="The dead-letter topic, e.g. sap-sink.dlq.")]
Bootstrap = Annotated[
    str | None,
    typer.Option(help="Kafka bootstrap servers (else ISTHMUS_KAFKA__BOOTSTRAP_SERVERS)."),
]
Partitions = Annotated[list[int] | None, typer.Option("--partition", help="Only this partition.")]
FromOffset = Annotated[int | None, typer.Option(help="First DLQ offset (inclusive).")]
ToOffset = Annotated[int | None, typer.Option(help="Last DLQ offset (inclusive).")]
Keys = Annotated[list[str] | None, typer.Option("--key", help="Only records with this key.")]
Classes = Annotated[
    list[ErrorClass] | None, typer.Option("--error-class", help="Only this error class.")
]
Since = Annotated[
    datetime | None, typer.Option(help="Dead-lettered at or after (ISO 8601, UTC if no zone).")
]
Until = Annotated[datetime | None, typer.Option(help="Dead-lettered before (ISO 8601).")]


def _selection(options: Mapping[str, Any]) -> ReplaySelection:
    """The dead letters chosen by a command's selection options (the command's ``locals()``)."""
    partitions, keys, classes = options["partition"], options["key"], options["error_class"]
    return ReplaySelection(
        partitions=frozenset(partitions) if partitions else None,
        start_offset=options["from_offset"],
        end_offset=options["to_offset"],
        keys=frozenset(k.encode() for k in keys) if keys else None,
        error_classes=frozenset(c.value for c in classes) if classes else None,
        since=_aware(options["since"]),
        until=_aware(options["until"]),
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@app.command("list")
def list_(
    dlq: Dlq,
    *,
    bootstrap_servers: Bootstrap = None,
    partition: Partitions = None,
    from_offset: FromOffset = None,
    to_offset: ToOffset = None,
    key: Keys = None,
    error_class: Classes = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Show the dead letters a replay with the same options would move (nothing changes)."""
    selection = _selection(locals())
    report = _run(dlq, bootstrap_servers, selection, dry_run=True)
    _print(report)


@app.command("run")
def run(
    dlq: Dlq,
    *,
    bootstrap_servers: Bootstrap = None,
    partition: Partitions = None,
    from_offset: FromOffset = None,
    to_offset: ToOffset = None,
    key: Keys = None,
    error_class: Classes = None,
    since: Since = None,
    until: Until = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would move.")] = False,
) -> None:
    """Move the selected dead letters back to their source topics (attempt + 1)."""
    selection = _selection(locals())
    report = _run(dlq, bootstrap_servers, selection, dry_run=dry_run)
    _print(report)


def _run(
    dlq: str, bootstrap_servers: str | None, selection: ReplaySelection, *, dry_run: bool
) -> ReplayReport:
    settings = load_settings(bootstrap_servers=bootstrap_servers)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"replaying {dlq}", total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            return replay_dead_letters(
                kafka=settings.kafka,
                dlq=dlq,
                selection=selection,
                dry_run=dry_run,
                progress=advance,
            )
        except ReplayError as exc:
            errors.print(f"[red]replay failed:[/red] {exc}")
            raise typer.Exit(code=1) from exc


def _print(report: ReplayReport) -> None:
    table = Table(title=f"{report.dlq}: {len(report.selected)} selected")
    for column in ("partition", "offset", "key", "class", "stage", "attempt", "source", "message"):
        table.add_column(column)
    for letter in report.selected[:200]:
        info = letter.info
        table.add_row(
            str(letter.partition),
            str(letter.offset),
            (letter.key or b"").decode("utf-8", errors="replace"),
            info.error_class if info else "?",
            info.stage if info else "?",
            str(info.attempt) if info else "?",
            info.origin if info else "?",
            (info.message if info else "")[:80],
        )
    console.print(table)
    verb = "would move" if report.dry_run else "moved"
    moved = len(report.selected) if report.dry_run else report.moved
    console.print(
        f"examined {report.examined}, skipped {report.already_replayed} replayed before, "
        f"{verb} {moved}"
        + "".join(f"\n  {topic}: {count}" for topic, count in report.by_target.items())
    )
