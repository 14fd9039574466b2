"""``make run``: the whole system as local processes on 127.0.0.1, stopped together on Ctrl-C."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.admin import AdminClient
from rich.console import Console

from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.environment import local_kafka
from isthmus.devenv.paths import local_dir
from isthmus.devenv.registry import DEFAULT_REGISTRY_PORT, local_registry
from isthmus.devenv.registry_cli import register_schemas
from isthmus.devenv.subscriptions import wire_sandboxes
from isthmus.devenv.supervisor import ChildSpec, Supervisor
from isthmus.devenv.system import SystemConfig, SystemPorts, integration_user_id, service_specs
from isthmus.devenv.tls import LocalTls, ensure_local_tls
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.provisioning import TopicProvisioner

SANDBOX_D365_PORT = 8443
SANDBOX_S4_PORT = 44300


@dataclass(frozen=True)
class Endpoint:
    """One thing a user can reach while the system runs."""

    name: str
    address: str
    note: str = ""


def sandbox_argv(module: str, *, port: int, db: Path, tls_dir: Path) -> list[str]:
    """The command line that serves one sandbox over HTTPS on ``port`` with its database."""
    return [
        sys.executable,
        "-m",
        module,
        "--port",
        str(port),
        "--db",
        str(db),
        "--tls-dir",
        str(tls_dir),
    ]


def sandbox_specs(*, local: Path, tls: LocalTls) -> list[ChildSpec]:
    """Both sandboxes, seeded, with their databases under ``.local/``."""
    specs = []
    for name, module, port in (
        ("sandbox-d365", "isthmus.sandbox_d365", SANDBOX_D365_PORT),
        ("sandbox-s4", "isthmus.sandbox_s4", SANDBOX_S4_PORT),
    ):
        base = f"https://127.0.0.1:{port}"
        specs.append(
            ChildSpec(
                name=name,
                argv=sandbox_argv(
                    module, port=port, db=local / name / "sandbox.db", tls_dir=tls.ca_cert.parent
                ),
                ready_url=f"{base}/_sandbox/health",
                ca_file=tls.ca_cert,
            )
        )
    return specs


def run_local_system(*, root: Path, kafka_port: int, stop: threading.Event, out: Console) -> None:
    """Start broker, topics, registry and every process; block until ``stop`` is set.

    Raises:
        BrokerError, RegistryError, ServiceStartError, IsthmusKafkaError, SchemaError: a part
            did not come up; everything started so far is stopped again.
    """
    local = local_dir(root)
    broker = local_kafka(root=root, port=kafka_port)
    registry = local_registry(root=root, port=DEFAULT_REGISTRY_PORT)
    supervisor = Supervisor(log_dir=local / "logs", console=out)
    try:
        state = broker.up()
        provisioner = TopicProvisioner(
            admin=AdminClient({"bootstrap.servers": state.bootstrap_servers})
        )
        applied = provisioner.apply(
            load_catalogue(root / "deploy" / "topics.yaml"), replication_factor=1
        )
        del provisioner  # closes its admin connection before the broker goes away
        out.print(f"topics provisioned ({len(applied.changes)} changes)")
        registry_url = registry.up().url
        registered = register_schemas(root=root, url=registry_url)
        out.print(f"schema registry {registry_url}: {len(registered)} subjects, BACKWARD")
        tls = ensure_local_tls(local / "tls")
        for spec in sandbox_specs(local=local, tls=tls):
            supervisor.start(spec)
        config = _system_config(root, state.bootstrap_servers, tls)
        for spec in service_specs(config=config):
            supervisor.start(spec)
        wire_sandboxes(
            d365_url=config.d365_url,
            s4_url=config.s4_url,
            ingress_url=config.ingress_url,
            ca_file=tls.ca_cert,
        )
        _print_ready(out, _endpoints(state.bootstrap_servers, registry_url, tls))
        demo = _start_demo(config, stop, out)
        _watch(supervisor, stop, out)
        demo.join(timeout=30)
    finally:
        out.print("stopping...")
        supervisor.stop_all()
        registry.down()
        broker.down()
        out.print("stopped")


def _system_config(root: Path, bootstrap: str, tls: LocalTls) -> SystemConfig:
    d365 = f"https://127.0.0.1:{SANDBOX_D365_PORT}"
    return SystemConfig(
        root=root,
        bootstrap_servers=bootstrap,
        d365_url=d365,
        s4_url=f"https://127.0.0.1:{SANDBOX_S4_PORT}",
        ca_file=tls.ca_cert,
        d365_user_id=integration_user_id(d365_url=d365, ca_file=tls.ca_cert),
        ports=SystemPorts(),
        # The services write self-describing single-object Avro: the local registry keeps its
        # schema ids in memory, so framed records would not survive a restart of `make run`.
    )


def _start_demo(config: SystemConfig, stop: threading.Event, out: Console) -> threading.Thread:
    driver = DemoDriver(
        d365_url=config.d365_url,
        s4_url=config.s4_url,
        ca_file=config.ca_file,
        bootstrap_servers=config.bootstrap_servers,
        out=out,
    )

    def drive() -> None:
        try:
            driver.run(stop)
        except Exception:  # the demo must not take the system down with it
            out.print_exception()
            out.print("[bold red]demo driver stopped[/bold red]; the services keep running")

    thread = threading.Thread(target=drive, name="demo", daemon=True)
    thread.start()
    return thread


def _endpoints(bootstrap: str, registry_url: str, tls: LocalTls) -> list[Endpoint]:
    d365 = f"https://127.0.0.1:{SANDBOX_D365_PORT}"
    s4 = f"https://127.0.0.1:{SANDBOX_S4_PORT}"
    return [
        Endpoint("kafka", bootstrap, "bootstrap.servers"),
        Endpoint("ingress", "http://127.0.0.1:8090/docs", "webhooks, SAP events, publish API"),
        Endpoint("transformer", "http://127.0.0.1:8085/metrics", "flows/ (hot reload)"),
        Endpoint("sap-sink", "http://127.0.0.1:8080/metrics", "S/4 commands"),
        Endpoint("d365-sink", "http://127.0.0.1:8083/metrics", "Dataverse commands"),
        Endpoint("schema registry", registry_url, "Confluent-compatible API"),
        Endpoint("sandbox-d365", f"{d365}/api/data/v9.2/", "Dataverse Web API + Entra ID"),
        Endpoint("sandbox-s4", f"{s4}/sap/opu/odata/sap/", "S/4HANA OData V2"),
        Endpoint("local CA", str(tls.ca_cert), "trust it for the HTTPS sandboxes"),
    ]


def _print_ready(out: Console, endpoints: list[Endpoint]) -> None:
    # Plain lines rather than a table: they stay whole when the output is a file or a pipe.
    out.print("[bold]Isthmus is running[/bold] (Ctrl-C stops everything):", soft_wrap=True)
    for endpoint in endpoints:
        out.print(f"  {endpoint.name:<16} {endpoint.address}  ({endpoint.note})", soft_wrap=True)
    out.print("[bold green]ready[/bold green]")


def _watch(supervisor: Supervisor, stop: threading.Event, out: Console) -> None:
    while not stop.wait(1.0):
        for name, code, delay in supervisor.restart_exited():
            out.print(
                f"[bold red]{name} exited with code {code}[/bold red]; restarting in "
                f"{delay:.0f}s (see .local/logs/{name}.log)"
            )
