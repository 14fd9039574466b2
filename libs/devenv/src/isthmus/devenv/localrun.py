"""``make run``: the whole system as local processes on 127.0.0.1, stopped together on Ctrl-C."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.admin import AdminClient
from rich.console import Console

from isthmus.devenv.broker import LocalKafka
from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.environment import DEFAULT_KAFKA_PORT, local_kafka
from isthmus.devenv.paths import local_dir
from isthmus.devenv.ports import free_port
from isthmus.devenv.registry import DEFAULT_REGISTRY_PORT, LocalRegistry, local_registry
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


@dataclass(frozen=True)
class Placement:
    """Where one local system lives: its folder under ``.local/`` and its loopback ports.

    The defaults are ``make run``'s (the folder ``.local/`` itself); ``isolated`` places a
    second system beside it, so that both can run at once.
    """

    folder: str = ""
    kafka_port: int = DEFAULT_KAFKA_PORT
    registry_port: int = DEFAULT_REGISTRY_PORT
    sandbox_d365_port: int = SANDBOX_D365_PORT
    sandbox_s4_port: int = SANDBOX_S4_PORT
    services: SystemPorts = field(default_factory=SystemPorts)

    @classmethod
    def isolated(cls, *, folder: str) -> Placement:
        """A system in ``.local/<folder>/`` on ports the kernel has free now."""
        return cls(
            folder=folder,
            kafka_port=free_port(),
            registry_port=free_port(),
            sandbox_d365_port=free_port(),
            sandbox_s4_port=free_port(),
            services=SystemPorts(
                ingress=free_port(),
                ingress_metrics=free_port(),
                transformer=free_port(),
                sap_sink=free_port(),
                d365_sink=free_port(),
            ),
        )

    def path(self, local: Path, name: str) -> Path:
        """``.local/[<folder>/]<name>``."""
        return local / self.folder / name if self.folder else local / name

    def component(self, name: str) -> str:
        """The folder of ``name`` relative to ``.local/``, as the broker and registry take it."""
        return f"{self.folder}/{name}" if self.folder else name

    @property
    def d365_url(self) -> str:
        return f"https://127.0.0.1:{self.sandbox_d365_port}"

    @property
    def s4_url(self) -> str:
        return f"https://127.0.0.1:{self.sandbox_s4_port}"


def sandbox_specs(
    *, local: Path, tls: LocalTls, placement: Placement | None = None
) -> list[ChildSpec]:
    """Both sandboxes, seeded, with their databases under ``.local/``."""
    where = placement or Placement()
    specs = []
    for name, module, port in (
        ("sandbox-d365", "isthmus.sandbox_d365", where.sandbox_d365_port),
        ("sandbox-s4", "isthmus.sandbox_s4", where.sandbox_s4_port),
    ):
        base = f"https://127.0.0.1:{port}"
        specs.append(
            ChildSpec(
                name=name,
                argv=sandbox_argv(
                    module,
                    port=port,
                    db=where.path(local, name) / "sandbox.db",
                    tls_dir=tls.ca_cert.parent,
                ),
                ready_url=f"{base}/_sandbox/health",
                ca_file=tls.ca_cert,
            )
        )
    return specs


@dataclass(frozen=True)
class LocalSystem:
    """A running local system: its supervised processes, broker, registry and configuration."""

    config: SystemConfig
    supervisor: Supervisor
    broker: LocalKafka
    registry: LocalRegistry
    registry_url: str
    tls: LocalTls

    def pids(self) -> dict[str, int | None]:
        """The process id of every component by name (None while one is not running): the
        supervised sandboxes and services, then the broker's and the registry's JVMs."""
        return {
            **self.supervisor.pids(),
            "kafka": self.broker.pid(),
            "registry": self.registry.pid(),
        }


def run_local_system(*, root: Path, kafka_port: int, stop: threading.Event, out: Console) -> None:
    """Start broker, topics, registry and every process; block until ``stop`` is set.

    Raises:
        BrokerError, RegistryError, ServiceStartError, IsthmusKafkaError, SchemaError: a part
            did not come up; everything started so far is stopped again.
    """
    with local_system(root=root, placement=Placement(kafka_port=kafka_port), out=out) as system:
        _print_ready(out, _endpoints(system))
        _driver, demo = start_demo(system.config, stop, out)
        watch_children(system.supervisor, stop, out)
        demo.join(timeout=30)


@contextmanager
def local_system(*, root: Path, placement: Placement, out: Console) -> Iterator[LocalSystem]:
    """Start broker, topics, registry, sandboxes and services; stop them all on leaving.

    Raises:
        BrokerError, RegistryError, ServiceStartError, IsthmusKafkaError, SchemaError: a part
            did not come up; everything started so far is stopped again.
    """
    local = local_dir(root)
    broker = local_kafka(root=root, name=placement.component("kafka"), port=placement.kafka_port)
    registry = local_registry(
        root=root, name=placement.component("registry"), port=placement.registry_port
    )
    supervisor = Supervisor(log_dir=placement.path(local, "logs"), console=out)
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
        for spec in sandbox_specs(local=local, tls=tls, placement=placement):
            supervisor.start(spec)
        config = _system_config(root, state.bootstrap_servers, tls, placement)
        for spec in service_specs(config=config):
            supervisor.start(spec)
        wire_sandboxes(
            d365_url=config.d365_url,
            s4_url=config.s4_url,
            ingress_url=config.ingress_url,
            ca_file=tls.ca_cert,
        )
        yield LocalSystem(
            config=config,
            supervisor=supervisor,
            broker=broker,
            registry=registry,
            registry_url=registry_url,
            tls=tls,
        )
    finally:
        out.print("stopping...")
        supervisor.stop_all()
        registry.down()
        broker.down()
        out.print("stopped")


def _system_config(root: Path, bootstrap: str, tls: LocalTls, placement: Placement) -> SystemConfig:
    return SystemConfig(
        root=root,
        bootstrap_servers=bootstrap,
        d365_url=placement.d365_url,
        s4_url=placement.s4_url,
        ca_file=tls.ca_cert,
        d365_user_id=integration_user_id(d365_url=placement.d365_url, ca_file=tls.ca_cert),
        ports=placement.services,
        # The services write self-describing single-object Avro: the local registry keeps its
        # schema ids in memory, so framed records would not survive a restart of `make run`.
    )


def start_demo(
    config: SystemConfig, stop: threading.Event, out: Console
) -> tuple[DemoDriver, threading.Thread]:
    """The demo driver at its default rate on a thread of its own, until ``stop`` is set."""
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
    return driver, thread


def _endpoints(system: LocalSystem) -> list[Endpoint]:
    config, ports = system.config, system.config.ports
    return [
        Endpoint("kafka", config.bootstrap_servers, "bootstrap.servers"),
        Endpoint("ingress", f"{config.ingress_url}/docs", "webhooks, SAP events, publish API"),
        Endpoint(
            "transformer", f"http://127.0.0.1:{ports.transformer}/metrics", "flows/ (hot reload)"
        ),
        Endpoint("sap-sink", f"http://127.0.0.1:{ports.sap_sink}/metrics", "S/4 commands"),
        Endpoint("d365-sink", f"http://127.0.0.1:{ports.d365_sink}/metrics", "Dataverse commands"),
        Endpoint("schema registry", system.registry_url, "Confluent-compatible API"),
        Endpoint(
            "sandbox-d365", f"{config.d365_url}/api/data/v9.2/", "Dataverse Web API + Entra ID"
        ),
        Endpoint("sandbox-s4", f"{config.s4_url}/sap/opu/odata/sap/", "S/4HANA OData V2"),
        Endpoint("local CA", str(system.tls.ca_cert), "trust it for the HTTPS sandboxes"),
    ]


def _print_ready(out: Console, endpoints: list[Endpoint]) -> None:
    # Plain lines rather than a table: they stay whole when the output is a file or a pipe.
    out.print("[bold]Isthmus is running[/bold] (Ctrl-C stops everything):", soft_wrap=True)
    for endpoint in endpoints:
        out.print(f"  {endpoint.name:<16} {endpoint.address}  ({endpoint.note})", soft_wrap=True)
    out.print("[bold green]ready[/bold green]")


def watch_children(supervisor: Supervisor, stop: threading.Event, out: Console) -> None:
    """Restart every child that exits, as ``make run`` does, until ``stop`` is set."""
    while not stop.wait(1.0):
        for name, code, delay in supervisor.restart_exited():
            out.print(
                f"[bold red]{name} exited with code {code}[/bold red]; restarting in "
                f"{delay:.0f}s (see .local/logs/{name}.log)"
            )
