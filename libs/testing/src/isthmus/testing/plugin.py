"""pytest plugin: one real Kafka broker per test session, unique names per test.

Set ``ISTHMUS_TEST_BOOTSTRAP`` to run the suite against an already running broker instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.devenv.environment import local_kafka
from isthmus.devenv.paths import find_root
from isthmus.devenv.tls import LocalTls, ensure_local_tls
from isthmus.telemetry.secrets import PROFILE_ENV
from isthmus.testing.kafka import Broker, UniqueNames

# Every service a test starts runs the local profile: the sandboxes' public credentials are fine.
os.environ.setdefault(PROFILE_ENV, "local")

# Fixture modules of the components; each one registers its own fixtures.
pytest_plugins = [
    "isthmus.testing.registry",
    "isthmus.testing.sandbox_d365",
    "isthmus.testing.sandbox_s4",
]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The Isthmus checkout the tests run in."""
    return find_root(Path(__file__))


@pytest.fixture(scope="session")
def kafka_broker(repo_root: Path) -> Iterator[Broker]:
    """A real single-node KRaft broker on a free loopback port, for the whole session."""
    external = os.environ.get("ISTHMUS_TEST_BOOTSTRAP")
    if external:
        yield Broker(bootstrap_servers=external)
        return
    name = f"test-kafka-{uuid.uuid4().hex[:8]}"
    broker = local_kafka(root=repo_root, name=name)
    try:
        state = broker.up()
        yield Broker(bootstrap_servers=state.bootstrap_servers)
    finally:
        broker.down()
        shutil.rmtree(broker.data_dir, ignore_errors=True)


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> UniqueNames:
    """Call it for topic and group names no other test uses: ``unique_name("orders")``."""
    return UniqueNames(request.node.name)


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory: pytest.TempPathFactory) -> LocalTls:
    """A local CA and a 127.0.0.1 server certificate for the HTTPS sandboxes."""
    return ensure_local_tls(tmp_path_factory.mktemp("tls"))
