"""The whole system for the end-to-end tests: every service a real process on the session broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.devenv.demo import DemoDriver
from isthmus.devenv.process import ManagedProcess
from isthmus.devenv.subscriptions import wire_sandboxes
from isthmus.devenv.supervisor import ChildSpec
from isthmus.devenv.system import SystemConfig, service_specs
from isthmus.kafka.audit import AUDIT_SCHEMA, AUDIT_TOPIC
from isthmus.kafka.catalogue import load_catalogue
from isthmus.kafka.provisioning import TopicProvisioner
from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.testing.kafka import Broker, drain
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4
from isthmus.testing.system import demo_driver, reset_sandboxes, system_config, unwire_sandboxes

pytestmark = pytest.mark.e2e


@dataclass
class RunningSystem:
    """The four services as processes, the demo driver, and what the tests need to look inside."""

    config: SystemConfig
    specs: dict[str, ChildSpec]
    log_dir: Path
    broker: Broker
    d365: SandboxD365
    s4: SandboxS4
    driver: DemoDriver
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def start(self, name: str) -> None:
        """Start one service and wait until it is ready."""
        spec = self.specs[name]
        process = ManagedProcess(
            name=name,
            argv=spec.argv,
            log_file=self.log_dir / f"{name}.log",
            env=spec.env,
        )
        process.start()
        self.processes[name] = process
        assert spec.ready_url is not None
        process.wait_http_ready(spec.ready_url, timeout_s=spec.ready_timeout_s)

    def restart(self, name: str) -> None:
        """SIGTERM one service, then start it again (same group, same instance id)."""
        self.processes[name].stop(timeout_s=30)
        self.start(name)

    def stop_all(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop(timeout_s=30)

    def poll_until(
        self, done: Callable[[], bool], *, timeout_s: float, step_s: float = 1.0
    ) -> bool:
        """Let the driver poll (and do the human steps) until ``done()`` or the time is up."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.driver.poll()
            if done():
                return True
            time.sleep(step_s)
        return False

    def audit_events(self) -> list[dict[str, Any]]:
        """Every record of ``audit.events``, decoded."""
        serde = SerdeFactory(settings=SchemaSettings(schemas_dir=self.config.root / "schemas"))
        decode = serde.deserializer(value_schema=AUDIT_SCHEMA)
        context = SerializationContext(AUDIT_TOPIC, MessageField.VALUE)
        events = [
            decode(message.value(), context)
            for message in drain(self.broker, AUDIT_TOPIC, timeout_s=20)
            if message.value()
        ]
        return [event for event in events if event is not None]


@pytest.fixture(scope="session")
def e2e_sandboxes(
    sandbox_d365: SandboxD365, sandbox_s4: SandboxS4
) -> tuple[SandboxD365, SandboxS4]:
    """The sandboxes, reset once per test run only.

    S/4 numbers restart after a reset while ``xref.ids`` keeps the old links, so a second reset
    in the same run would let a new order 5 meet the old order 5's D365 id.
    """
    reset_sandboxes(sandbox_d365, sandbox_s4)
    return sandbox_d365, sandbox_s4


@pytest.fixture(scope="module")
def system(
    kafka_broker: Broker,
    e2e_sandboxes: tuple[SandboxD365, SandboxS4],
    repo_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningSystem]:
    """Catalogue topics, sandboxes wired to a fresh ingress, and all four services."""
    sandbox_d365, sandbox_s4 = e2e_sandboxes
    TopicProvisioner(
        admin=AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})
    ).apply(load_catalogue(repo_root / "deploy" / "topics.yaml"), replication_factor=1)
    unwire_sandboxes(sandbox_d365)
    config = system_config(
        root=repo_root,
        bootstrap_servers=kafka_broker.bootstrap_servers,
        d365=sandbox_d365,
        s4=sandbox_s4,
    )
    log_dir = tmp_path_factory.mktemp("e2e-logs")
    driver = demo_driver(config)
    running = RunningSystem(
        config=config,
        specs={spec.name: spec for spec in service_specs(config=config)},
        log_dir=log_dir,
        broker=kafka_broker,
        d365=sandbox_d365,
        s4=sandbox_s4,
        driver=driver,
    )
    try:
        for name in running.specs:
            running.start(name)
        wire_sandboxes(
            d365_url=config.d365_url,
            s4_url=config.s4_url,
            ingress_url=config.ingress_url,
            ca_file=config.ca_file,
        )
        driver.set_up()
        assert running.poll_until(driver.customers_ready, timeout_s=90), "customers not in S/4"
        yield running
    finally:
        running.stop_all()
        driver.close()
