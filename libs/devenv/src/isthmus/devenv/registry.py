"""A local Apicurio Registry (in-memory storage) unpacked from its Maven distribution.

It speaks the Confluent Schema Registry API at ``/apis/ccompat/v7``, which is what
``isthmus.schemas`` uses. Its schemas live in memory: a restart starts empty, and provisioning
(``isthmus-dev registry register``) registers ``schemas/`` again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from isthmus.devenv.paths import local_dir
from isthmus.devenv.pidfile import running_pid, terminate
from isthmus.devenv.ports import free_port, port_open, wait_port_closed
from isthmus.devenv.process import ManagedProcess, ServiceStartError

logger = logging.getLogger(__name__)

DEFAULT_REGISTRY_PORT = 8081
CCOMPAT_PATH = "/apis/ccompat/v7"
_READY_TIMEOUT_S = 120.0
_STOP_TIMEOUT_S = 20.0


class RegistryError(RuntimeError):
    """The local registry could not be fetched, started or stopped; the message says why."""


@dataclass(frozen=True)
class RegistryState:
    """What is remembered about one registry folder between runs."""

    port: int

    @property
    def base_url(self) -> str:
        """Root URL of the registry (health, UI, native API)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The Confluent-compatible API, as ``SchemaSettings.registry_url`` takes it."""
        return self.base_url + CCOMPAT_PATH


def ensure_distribution(*, pom: Path, target: Path) -> Path:
    """Unpack the registry distribution of ``pom`` into ``target`` unless done for this pom.

    Returns the jar to start (``quarkus-run.jar`` or the legacy ``*-runner.jar``).

    Raises:
        RegistryError: ``mvn`` is missing or failed, or the distribution holds no runnable jar.
    """
    pom, target = pom.resolve(), target.resolve()
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()
    marker = target / ".pom.sha256"
    if not (marker.is_file() and marker.read_text().strip() == digest):
        _unpack(pom, target)
        marker.write_text(digest)
    jars = [target / "quarkus-run.jar", *sorted(target.glob("*-runner.jar"))]
    runnable = next((jar for jar in jars if jar.is_file()), None)
    if runnable is None:
        raise RegistryError(f"no quarkus-run.jar or *-runner.jar in {target}")
    return runnable


def _unpack(pom: Path, target: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RegistryError("Maven ('mvn') is not on PATH; install Maven to fetch Apicurio")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    logger.info("unpacking the Apicurio Registry distribution into %s", target)
    command = [mvn, "-q", "-B", "-f", str(pom), "dependency:unpack", f"-Dregistry.dir={target}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-2000:]
        raise RegistryError(f"mvn failed with exit code {result.returncode}:\n{tail}")


class LocalRegistry:
    """Controls one local Apicurio Registry whose pid, port and log live under ``data_dir``."""

    def __init__(
        self,
        *,
        data_dir: Path,
        pom: Path,
        dist_dir: Path,
        port: int | None = None,
        heap: str = "384m",
    ) -> None:
        self.data_dir = data_dir
        self._pom = pom
        self._dist_dir = dist_dir
        self._requested_port = port
        self._heap = heap
        self._process: ManagedProcess | None = None

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "isthmus-registry.json"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "registry.pid"

    @property
    def log_file(self) -> Path:
        """The registry's console log."""
        return self.data_dir / "logs" / "registry.log"

    def state(self) -> RegistryState:
        """The port of this folder, chosen on first use and remembered."""
        if self._state_file.is_file():
            return RegistryState(**json.loads(self._state_file.read_text()))
        state = RegistryState(port=self._requested_port or free_port())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps(state.__dict__))
        return state

    def pid(self) -> int | None:
        """The registry's process id if it is running."""
        return running_pid(self._pid_file)

    def is_ready(self) -> bool:
        """True when the Confluent-compatible API answers."""
        try:
            with urllib.request.urlopen(self.state().url + "/subjects", timeout=2) as response:  # noqa: S310 - loopback URL we built
                return bool(response.status == 200)  # noqa: PLR2004
        except (urllib.error.URLError, OSError):
            return False

    def up(self) -> RegistryState:
        """Start the registry (unpacking it with mvn on first use) and wait until it answers.

        Raises:
            RegistryError: the distribution could not be fetched, the port is taken, or the
                registry exited or did not answer in time (its log tail is attached).
        """
        state = self.state()
        if self.pid() is not None and self.is_ready():
            return state
        if port_open(state.port):
            raise RegistryError(f"port {state.port} is taken by another process")
        jar = ensure_distribution(pom=self._pom, target=self._dist_dir)
        process = ManagedProcess(
            name="apicurio-registry", argv=self._argv(jar, state), log_file=self.log_file
        )
        process.start()
        self._process = process  # keep the handle: it reaps the JVM when we stop it ourselves
        self._pid_file.write_text(str(process.pid))
        try:
            process.wait_http_ready(state.url + "/subjects", timeout_s=_READY_TIMEOUT_S)
        except ServiceStartError as exc:
            process.kill()
            self._pid_file.unlink(missing_ok=True)
            raise RegistryError(str(exc)) from exc
        logger.info("apicurio registry ready on %s (pid %s)", state.url, process.pid)
        return state

    def down(self) -> None:
        """Stop the registry (SIGTERM, SIGKILL after a timeout). Idempotent."""
        pid = self.pid()
        if self._process is not None and self._process.pid == pid:
            self._process.stop(timeout_s=_STOP_TIMEOUT_S)
            self._process = None
        terminate(self._pid_file, name="registry", timeout_s=_STOP_TIMEOUT_S)
        wait_port_closed(self.state().port, timeout_s=_STOP_TIMEOUT_S)

    def _argv(self, jar: Path, state: RegistryState) -> list[str]:
        return [
            "java", f"-Xmx{self._heap}", "-Xms64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            "-Dquarkus.http.host=127.0.0.1", f"-Dquarkus.http.port={state.port}",
            "-Dquarkus.management.enabled=false",
            "-Dquarkus.http.access-log.enabled=false",
            "-Dquarkus.log.console.color=false",
            "-Dapicurio.storage.kind=sql", "-Dapicurio.storage.sql.kind=h2",
            "-Dapicurio.rest.deletion.artifact.enabled=true",
            "-Dapicurio.rest.deletion.artifact-version.enabled=true",
            "-jar", str(jar),
        ]  # fmt: skip


def local_registry(*, root: Path, name: str = "registry", port: int | None = None) -> LocalRegistry:
    """The registry whose pid and log live in ``<root>/.local/<name>``, with the shared dist."""
    local = local_dir(root)
    return LocalRegistry(
        data_dir=local / name,
        pom=root / "deploy" / "local" / "registry" / "pom.xml",
        dist_dir=local / "dist" / "apicurio-registry",
        port=port,
    )
