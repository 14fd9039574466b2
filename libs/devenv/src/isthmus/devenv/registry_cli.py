"""``isthmus-dev registry``: the local Apicurio Registry and the registration of ``schemas/``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from confluent_kafka.schema_registry import SchemaRegistryClient

from isthmus.devenv.cli_servers import console, out, report_status, start_server
from isthmus.devenv.paths import find_root
from isthmus.devenv.registry import DEFAULT_REGISTRY_PORT, RegistryError, local_registry
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.schemas.catalogue import SchemaCatalogue
from isthmus.schemas.errors import SchemaError
from isthmus.schemas.registration import Registration, register_catalogue, topic_subjects
from isthmus.schemas.registry import RegistryClient

registry_app = typer.Typer(
    help="The local Apicurio schema registry (Confluent-compatible API).", no_args_is_help=True
)
Port = Annotated[int, typer.Option(help="HTTP port on 127.0.0.1 (first start only).")]
Url = Annotated[
    str | None,
    typer.Option(help="Confluent-compatible registry URL (default: the local registry)."),
]


def register_schemas(*, root: Path, url: str) -> list[Registration]:
    """Register every topic value schema of ``deploy/topics.yaml`` from ``schemas/`` at ``url``.

    Raises:
        SchemaError: the catalogue is invalid or the registry refused or did not answer.
        IsthmusKafkaError: the topic catalogue is invalid.
    """
    topics = load_catalogue(root / "deploy" / "topics.yaml")
    subjects = topic_subjects((topic.name, topic.value_schema) for topic in topics)
    registry = RegistryClient(client=SchemaRegistryClient({"url": url}))
    try:
        catalogue = SchemaCatalogue.load(root / "schemas")
        return register_catalogue(registry=registry, catalogue=catalogue, subjects=subjects)
    finally:
        registry.close()


@registry_app.command("up")
def registry_up(port: Port = DEFAULT_REGISTRY_PORT) -> None:
    """Start the registry (unpacking it with mvn on first use) and wait until it answers."""
    state = start_server(
        up=local_registry(root=find_root(), port=port).up,
        waiting="starting Apicurio Registry (in-memory)...",
        failed="registry failed to start",
        errors=(RegistryError,),
    )
    out.print(f"registry ready: url={state.url}")


@registry_app.command("down")
def registry_down() -> None:
    """Stop the registry (its schemas are in memory and go with it)."""
    local_registry(root=find_root()).down()
    out.print("registry stopped")


@registry_app.command("status")
def registry_status() -> None:
    """Say whether the registry runs and answers."""
    registry = local_registry(root=find_root())
    report_status(name="registry", server=registry, address=lambda: registry.state().url)


@registry_app.command("register")
def registry_register(url: Url = None) -> None:
    """Register the value schema of every topic as ``<topic>-value``, compatibility BACKWARD."""
    root = find_root()
    try:
        done = register_schemas(root=root, url=url or local_registry(root=root).state().url)
    except (SchemaError, IsthmusKafkaError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for registration in done:
        out.print(
            f"{registration.subject}: {registration.schema_name} (id {registration.schema_id})"
        )
    out.print(f"{len(done)} subjects registered, compatibility BACKWARD")
