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

from isthmus.devenv.broker import BrokerError
from isthmus.devenv.cli_servers import console, out, report_status, start_server
from isthmus.devenv.environment import DEFAULT_KAFKA_PORT, local_kafka
from isthmus.devenv.jars import ensure_jars
from isthmus.devenv.localrun import run_local_system
from isthmus.devenv.paths import find_root, local_dir
from isthmus.devenv.process import ServiceStartError
from isthmus.devenv.registry import RegistryError
from isthmus.devenv.registry_cli import registry_app
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.errors import IsthmusKafkaError
from isthmus.kafka.provisioning import Plan, TopicProvisioner
from isthmus.kafka.strimzi import strimzi_topics
from isthmus.schemas.errors import SchemaError

app = typer.Typer(help="Isthmus local environment.", no_args_is_help=True)
kafka_app = typer.Typer(help="The local single-node Kafka broker (KRaft).", no_args_is_help=True)
topics_app = typer.Typer(help="Topics from deploy/topics.yaml.", no_args_is_help=True)
app.add_typer(kafka_app, name="kafka")
app.add_typer(topics_app, name="topics")
app.add_typer(registry_app, name="registry")

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
    state = start_server(
        up=broker.up,
        waiting="starting Kafka (KRaft, single node)...",
        failed="kafka failed to start",
        errors=(BrokerError,),
    )
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
    report_status(name="kafka", server=broker, address=lambda: broker.state().bootstrap_servers)


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


def _plan(
    *, bootstrap: str, catalogue: Path | None, replication_factor: int | None, apply: bool
) -> Plan:
    """Plan (or apply) the catalogue against the cluster; a refused plan exits 1 (diff: 2)."""
    provisioner = TopicProvisioner(admin=AdminClient({"bootstrap.servers": bootstrap}))
    try:
        topics = load_catalogue(_catalogue_path(catalogue))
        if apply:
            return provisioner.apply(topics, replication_factor=replication_factor)
        return provisioner.plan(topics, replication_factor=replication_factor)
    except IsthmusKafkaError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1 if apply else 2) from exc


@topics_app.command("apply")
def topics_apply(
    bootstrap: Bootstrap = f"127.0.0.1:{DEFAULT_KAFKA_PORT}",
    catalogue: CataloguePath = None,
    replication_factor: ReplicationFactor = None,
) -> None:
    """Create missing topics and apply safe changes; refuse destructive ones (changing nothing)."""
    applied = _plan(
        bootstrap=bootstrap, catalogue=catalogue, replication_factor=replication_factor, apply=True
    )
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
    current = _plan(
        bootstrap=bootstrap, catalogue=catalogue, replication_factor=replication_factor, apply=False
    )
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
