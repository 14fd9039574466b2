"""``isthmus-dev``: start and stop the local environment and provision its topics."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer
from confluent_kafka.admin import AdminClient
from rich.console import Console

from isthmus.devenv.broker import BrokerError
from isthmus.devenv.environment import DEFAULT_KAFKA_PORT, local_kafka
from isthmus.devenv.jars import ensure_jars
from isthmus.devenv.localrun import run_local_system
from isthmus.devenv.paths import find_root, local_dir
from isthmus.devenv.process import ServiceStartError
from isthmus.devenv.registry import RegistryError
from isthmus.devenv.registry_cli import registry_app
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.kafka.strimzi import strimzi_topics
from isthmus.schemas.errors import SchemaError

app = typer.Typer(help="Isthmus local environment.", no_args_is_help=True)
kafka_app = typer.Typer(help="The local single-node Kafka broker (KRaft).", no_args_is_help=True)
topics_app = typer.Typer(help="Topics from deploy/topics.yaml.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(registry_app, name="registry")

console = Console(stderr=True)
out = Console()

Port = Annotated[int, typer.Option(help="Client port on 127.0.0.1 (first start only).")]
Bootstrap = Annotated[str, typer.Option(help="Kafka bootstrap servers.")]
CataloguePath = Annotated[
    Path | None, typer.Option("--catalogue", help="Topic catalogue (default deploy/topics.yaml).")
]
ReplicationFactor = Annotated[
    int | None, typer.Option(help="Override every topic's replication factor (1 for one broker).")
]


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )


@kafka_app.command("up")
def kafka_up(port: Port = DEFAULT_KAFKA_PORT) -> None:
    """Start the broker (fetching jars with mvn on first use) and wait until it answers."""
    broker = local_kafka(root=find_root(), port=port)
    try:
        with console.status("starting Kafka (KRaft, single node)..."):
            state = broker.up()
    except BrokerError as exc:
        console.print(f"[red]kafka failed to start:[/red] {exc}")
        raise typer.Exit(1) from exc
    out.print(f"kafka ready: bootstrap.servers={state.bootstrap_servers} (data {broker.data_dir})")


@kafka_app.command("down")
def kafka_down() -> None:
    """Stop the broker; its data stays for the next start."""
    local_kafka(root=find_root()).down()
    out.print("kafka stopped")


@kafka_app.command("status")
def kafka_status() -> None:
    """Say whether the broker runs and answers."""
    broker = local_kafka(root=find_root())
    pid = broker.pid()
    if pid is None:
        out.print("kafka: not running")
        raise typer.Exit(3)
    ready = broker.is_ready()
    out.print(
        f"kafka: pid {pid}, {'ready' if ready else 'not answering'} on "
        f"{broker.state().bootstrap_servers}"
    )
    if not ready:
        raise typer.Exit(1)


def _catalogue_path(path: Path | None) -> Path:
    return path or find_root() / "deploy" / "topics.yaml"


@topics_app.command("validate")
def topics_validate(catalogue: CataloguePath = None) -> None:
    """Check the catalogue file without touching a cluster."""
    try:
        parsed = load_catalogue(_catalogue_path(catalogue))
    except IsthmusKafkaError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    out.print(f"{parsed.source}: {len(parsed)} topics, valid")


@topics_app.command("apply")
def topics_apply(
    bootstrap: Bootstrap = f"127.0.0.1:{DEFAULT_KAFKA_PORT}",
    catalogue: CataloguePath = None,
    replication_factor: ReplicationFactor = None,
) -> None:
    """Create missing topics and apply safe changes; refuse destructive ones (changing nothing)."""
    provisioner = TopicProvisioner(admin=AdminClient({"bootstrap.servers": bootstrap}))
    try:
        applied = provisioner.apply(
            load_catalogue(_catalogue_path(catalogue)), replication_factor=replication_factor
        )
    except IsthmusKafkaError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    for line in applied.drift_lines():
        out.print(line)
    out.print(f"topics in sync ({len(applied.changes)} changes applied)")


@topics_app.command("diff")
def topics_diff(
    bootstrap: Bootstrap = f"127.0.0.1:{DEFAULT_KAFKA_PORT}",
    catalogue: CataloguePath = None,
    replication_factor: ReplicationFactor = None,
) -> None:
    """Report drift between the catalogue and the cluster; exit 1 when they differ."""
    provisioner = TopicProvisioner(admin=AdminClient({"bootstrap.servers": bootstrap}))
    try:
        current = provisioner.plan(
            load_catalogue(_catalogue_path(catalogue)), replication_factor=replication_factor
        )
    except IsthmusKafkaError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    for line in current.drift_lines():
        out.print(line)
    if not current.in_sync:
        raise typer.Exit(1)
    out.print("no drift")


@topics_app.command("strimzi")
def topics_strimzi(
    catalogue: CataloguePath = None,
    cluster: Annotated[str, typer.Option(help="Strimzi cluster label.")] = "isthmus",
) -> None:
    """Print the catalogue as Strimzi KafkaTopic manifests (multi-document YAML)."""
    # Plain stdout: rich would wrap long lines and break the YAML.
    sys.stdout.write(strimzi_topics(load_catalogue(_catalogue_path(catalogue)), cluster=cluster))


@app.command("setup")
def setup() -> None:
    """Fetch the Kafka jars with mvn into .local/jars (cached by pom hash)."""
    root = find_root()
    ensure_jars(
        pom=root / "deploy" / "local" / "kafka" / "pom.xml",
        target=local_dir(root) / "jars" / "kafka",
    )
    out.print("local environment set up (Kafka jars cached in .local/jars)")


@app.command("run")
def run(port: Port = DEFAULT_KAFKA_PORT) -> None:
    """Start the whole local system, print how to reach it, and stop everything on Ctrl-C."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        run_local_system(root=find_root(), kafka_port=port, stop=stop, out=out)
    except (BrokerError, IsthmusKafkaError, RegistryError, SchemaError, ServiceStartError) as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
