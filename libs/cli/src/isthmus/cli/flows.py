"""``isthmus flows``: validate flow files, preview a flow on a sample, suggest mappings, diff."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from isthmus.kafka.catalogue import load_catalogue
from isthmus.mapping import (
    Flow,
    FlowDefinitionError,
    InMemoryLookups,
    MappingError,
    load_flow,
    load_flow_text,
    load_tables,
)
from isthmus.mapping.suggestions import suggest_for_flow
from isthmus.schemas import SchemaCatalogue

app = typer.Typer(help="Validate, preview, suggest and diff flows.", no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Dir = Annotated[Path, typer.Option("--dir", help="The flow folder.")]
FlowRef = Annotated[str, typer.Argument(help="A flow id of the folder, or a flow file.")]
XrefOption = Annotated[
    list[str] | None,
    typer.Option("--xref", help="A cross reference for the preview: entity:d365id=s4id."),
]


def _load(ref: str, directory: Path) -> Flow:
    """The flow ``ref`` names: a file path, or the id of a flow in ``directory``."""
    tables = load_tables(directory / "lookups")
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return load_flow(path, tables=tables)
    for candidate in sorted(directory.glob("*.yaml")):
        head = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        if isinstance(head, dict) and head.get("id") == ref:
            return load_flow(candidate, tables=tables)
    errors.print(f"[red]no flow {ref!r} in {directory}[/red]")
    raise typer.Exit(2)


def _fail_definition(exc: FlowDefinitionError) -> typer.Exit:
    errors.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


@app.command()
def validate(directory: Dir = Path("flows")) -> None:
    """Check every flow file of the folder; each problem names file, line and field."""
    try:
        tables = load_tables(directory / "lookups")
    except FlowDefinitionError as exc:
        raise _fail_definition(exc) from exc
    seen: dict[str, Path] = {}
    failed = 0
    for path in sorted(directory.glob("*.yaml")):
        try:
            flow = load_flow(path, tables=tables)
        except FlowDefinitionError as exc:
            failed += 1
            errors.print(f"[red]✗ {exc}[/red]")
            continue
        if flow.id in seen:
            failed += 1
            errors.print(f"[red]✗ {path}: flow id {flow.id!r} also in {seen[flow.id]}[/red]")
            continue
        seen[flow.id] = path
        state = "" if flow.enabled else " (disabled)"
        console.print(f"✓ {path}: {flow.id}@{flow.version}{state}")
    console.print(f"{len(seen)} valid, {failed} invalid")
    if failed:
        raise typer.Exit(1)


def _xrefs(pairs: list[str] | None) -> InMemoryLookups:
    table: dict[str, dict[str, str]] = {}
    for pair in pairs or ():
        entity, _, ids = pair.partition(":")
        d365, _, s4 = ids.partition("=")
        if not (entity and d365 and s4):
            errors.print(f"[red]--xref {pair!r}: expected entity:d365id=s4id[/red]")
            raise typer.Exit(2)
        table.setdefault(entity, {})[d365] = s4
    return InMemoryLookups(table)


def _json_default(value: object) -> str:
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else repr(value)


@app.command()
def preview(
    flow_ref: FlowRef,
    sample: Annotated[Path, typer.Argument(help="A sample event (JSON), e.g. flows/samples/….")],
    directory: Dir = Path("flows"),
    xref: XrefOption = None,
) -> None:
    """Run a flow on a sample event: print the target record, or every violated rule."""
    try:
        flow = _load(flow_ref, directory)
    except FlowDefinitionError as exc:
        raise _fail_definition(exc) from exc
    event = json.loads(sample.read_text(encoding="utf-8"))
    envelope = event.get("envelope") or {}
    event_type = str(envelope.get("message") or "")
    try:
        if not flow.matches(event_type, event):
            errors.print(f"[yellow]note: {flow.id} would not trigger on {event_type!r}[/yellow]")
    except MappingError as exc:
        errors.print(f"[yellow]note: the trigger condition fails: {exc}[/yellow]")
    result = flow.apply(event, _xrefs(xref))
    if result.ok:
        console.print(
            f"{flow.id}@{flow.version} → {flow.target.topic} ({flow.target.command_type})"
        )
        console.print_json(json.dumps(result.target, default=_json_default))
        if result.withheld:
            console.print(f"withheld (owned by the target): {', '.join(result.withheld)}")
        return
    table = Table(
        "field", "rule", "value", "message", title=f"{len(result.violations)} violation(s)"
    )
    for violation in result.violations:
        table.add_row(violation.field, violation.rule, repr(violation.value), violation.message)
    console.print(table)
    raise typer.Exit(1)


@app.command()
def suggest(  # noqa: PLR0917 - typer maps each parameter to an option
    flow_ref: FlowRef,
    directory: Dir = Path("flows"),
    schemas: Annotated[Path, typer.Option(help="The Avro schema folder.")] = Path("schemas"),
    topics: Annotated[Path, typer.Option(help="The topic catalogue.")] = Path("deploy/topics.yaml"),
    sample: Annotated[list[Path] | None, typer.Option(help="Sample events.")] = None,
    limit: Annotated[int, typer.Option(help="Suggestions per field.")] = 3,
) -> None:
    """Rank source fields for each target field the flow does not map yet."""
    try:
        flow = _load(flow_ref, directory)
    except FlowDefinitionError as exc:
        raise _fail_definition(exc) from exc
    catalogue = SchemaCatalogue.load(schemas)
    source_name = load_catalogue(topics).get(flow.trigger.topic).value_schema
    if source_name is None:
        errors.print(f"[red]{flow.trigger.topic} declares no value schema[/red]")
        raise typer.Exit(2)
    found = suggest_for_flow(
        flow=flow,
        source_schema=json.loads(catalogue.get(source_name).text),
        target_schema=json.loads(catalogue.get(flow.target.command_type).text),
        samples=[json.loads(p.read_text(encoding="utf-8")) for p in sample or ()],
        limit=limit,
    )
    table = Table("target field", "source field", "score", "reason", title=f"{flow.id}")
    for target, candidates in sorted(found.items()):
        for candidate in candidates or []:
            table.add_row(target, candidate.source, f"{candidate.score:.2f}", candidate.reason)
        if not candidates:
            table.add_row(target, "-", "-", "no candidate")
    console.print(table)


def _changes(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, str, Any, Any]]:
    """``(sign, path, old, new)`` for every leaf that was added (+), removed (-) or changed (~)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted({*old, *new}, key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in old:
                yield "+", where, None, new[key]
            elif key not in new:
                yield "-", where, old[key], None
            else:
                yield from _changes(old[key], new[key], where)
    elif old != new:
        yield "~", path, old, new


def _revision_text(path: Path, revision: str) -> str:
    root = subprocess.run(  # noqa: S603 - fixed git argv, no shell
        ["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    relative = path.resolve().relative_to(Path(root).resolve())
    return subprocess.run(  # noqa: S603 - fixed git argv, no shell
        ["git", "-C", root, "show", f"{revision}:{relative.as_posix()}"],  # noqa: S607
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(help="The older flow file (or the file, with --rev).")],
    new: Annotated[Path | None, typer.Argument(help="The newer flow file.")] = None,
    rev: Annotated[
        str | None, typer.Option(help="Compare OLD with its text at this git rev.")
    ] = None,
    directory: Dir = Path("flows"),
) -> None:
    """Show what changed between two versions of a flow (two files, or a file and a git rev)."""
    if (new is None) == (rev is None):
        errors.print("[red]give either NEW or --rev[/red]")
        raise typer.Exit(2)
    try:
        if rev is not None:
            before, after = _revision_text(old, rev), old.read_text(encoding="utf-8")
            names = (f"{old}@{rev}", str(old))
        else:
            assert new is not None  # noqa: S101 - checked above
            before, after = old.read_text(encoding="utf-8"), new.read_text(encoding="utf-8")
            names = (str(old), str(new))
    except (subprocess.CalledProcessError, OSError, ValueError) as exc:
        errors.print(f"[red]cannot read both versions: {exc}[/red]")
        raise typer.Exit(2) from exc
    tables = load_tables(directory / "lookups")
    for text, name in ((before, names[0]), (after, names[1])):
        try:
            load_flow_text(text, tables=tables, source=name)
        except FlowDefinitionError as exc:
            errors.print(f"[yellow]warning: {exc}[/yellow]")
    changes = list(_changes(yaml.safe_load(before) or {}, yaml.safe_load(after) or {}))
    console.print(f"--- {names[0]}\n+++ {names[1]}")
    for sign, where, was, now in changes:
        colour = {"+": "green", "-": "red", "~": "yellow"}[sign]
        text = {"+": f"{now!r}", "-": f"{was!r}", "~": f"{was!r} → {now!r}"}[sign]
        console.print(f"[{colour}]{sign} {where}: {text}[/{colour}]", highlight=False)
    console.print(f"{len(changes)} change(s)")
