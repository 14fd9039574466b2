"""A single-node Apache Kafka broker in KRaft mode (broker + controller), run from Maven jars.

The broker's data, configuration, logs and pid live in one folder, so stopping and starting it
again keeps every record. Ports are chosen once and remembered in that folder, because a KRaft
controller records its own endpoint when the storage is formatted.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from isthmus.devenv.jars import ensure_jars
from isthmus.devenv.pidfile import running_pid, terminate
from isthmus.devenv.ports import free_port, port_open, wait_port_closed

logger = logging.getLogger(__name__)

_READY_TIMEOUT_S = 90.0
_STOP_TIMEOUT_S = 30.0


class BrokerError(RuntimeError):
    """The local broker could not be started or stopped; the message includes its log tail."""


@dataclass(frozen=True)
class BrokerState:
    """What is remembered about one broker folder between runs."""

    port: int
    controller_port: int
    cluster_id: str
    proxied_port: int | None = None
    proxy_port: int | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"127.0.0.1:{self.port}"

    @property
    def proxied_bootstrap_servers(self) -> str | None:
        """The address of clients that reach the broker through a TCP proxy on ``proxy_port``
        (forwarding to ``proxied_port``), when the broker has that listener."""
        return f"127.0.0.1:{self.proxy_port}" if self.proxy_port else None


class LocalKafka:
    """Controls one local broker whose data lives under ``data_dir``."""

    def __init__(
        self,
        *,
        data_dir: Path,
        pom: Path,
        jars_dir: Path,
        log4j_config: Path,
        port: int | None = None,
        heap: str = "512m",
        proxied_listener: bool = False,
    ) -> None:
        """``proxied_listener`` adds a listener that advertises a proxy's port: clients that
        bootstrap through a proxy forwarding to it keep talking through the proxy."""
        self.data_dir = data_dir
        self._pom = pom
        self._jars_dir = jars_dir
        self._log4j_config = log4j_config
        self._requested_port = port
        self._heap = heap
        self._proxied = proxied_listener
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "isthmus-broker.json"

    @property
    def _pid_file(self) -> Path:
        return self.data_dir / "broker.pid"

    @property
    def log_file(self) -> Path:
        """The broker's own log (log4j)."""
        return self.data_dir / "logs" / "server.log"

    def state(self) -> BrokerState:
        """Ports and cluster id of this folder, chosen on first use and remembered."""
        if self._state_file.is_file():
            return BrokerState(**json.loads(self._state_file.read_text()))
        state = BrokerState(
            port=self._requested_port or free_port(),
            controller_port=free_port(),
            cluster_id=_cluster_id(),
            proxied_port=free_port() if self._proxied else None,
            proxy_port=free_port() if self._proxied else None,
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._state_file.write_text(json.dumps(state.__dict__))
        return state

    def pid(self) -> int | None:
        """The broker's process id if it is running."""
        return running_pid(self._pid_file)

    def is_ready(self, *, timeout_s: float = 2.0) -> bool:
        """True when the broker answers a metadata request."""
        state = self.state()
        if not port_open(state.port):
            return False
        admin = AdminClient({"bootstrap.servers": state.bootstrap_servers})
        try:
            metadata = admin.list_topics(timeout=timeout_s)
        except KafkaException:
            return False
        return bool(metadata.brokers)

    def up(self) -> BrokerState:
        """Start the broker (formatting its storage on first use) and wait until it answers.

        Raises:
            BrokerError: the broker exited or did not answer in time; the log tail is attached.
        """
        state = self.state()
        if self.pid() is not None and self.is_ready():
            return state
        if port_open(state.port):
            raise BrokerError(f"port {state.port} is taken by another process")
        jars = ensure_jars(pom=self._pom, target=self._jars_dir)
        config = self._write_config(state)
        if not (self.data_dir / "data" / "meta.properties").is_file():
            self._format(jars, config, state)
        self._reap()
        process = self._spawn(jars, config)
        self._process = process  # kept so that down() can reap it
        self._pid_file.write_text(str(process.pid))
        self._wait_ready(process)
        logger.info("kafka broker ready on %s (pid %s)", state.bootstrap_servers, process.pid)
        return state

    def down(self) -> None:
        """Stop the broker gracefully (SIGTERM), forcefully after a timeout. Idempotent."""
        if self.pid() is None:
            return
        terminate(self._pid_file, name="broker", timeout_s=_STOP_TIMEOUT_S)
        if self._process is not None:
            self._process.wait(timeout=_STOP_TIMEOUT_S)
            self._process = None
        state = self.state()
        wait_port_closed(state.port, timeout_s=_STOP_TIMEOUT_S)
        wait_port_closed(state.controller_port, timeout_s=_STOP_TIMEOUT_S)
        if state.proxied_port:
            wait_port_closed(state.proxied_port, timeout_s=_STOP_TIMEOUT_S)

    def _reap(self) -> None:
        """Collect the exit status of a broker of ours that died without ``down`` (kill -9):
        its Popen would otherwise be dropped unwaited (a zombie, and a ResourceWarning)."""
        previous, self._process = self._process, None
        if previous is not None and previous.poll() is None:
            previous.wait(timeout=_STOP_TIMEOUT_S)

    def _write_config(self, state: BrokerState) -> Path:
        data = self.data_dir / "data"
        controller = f"127.0.0.1:{state.controller_port}"
        listeners = [f"PLAINTEXT://127.0.0.1:{state.port}", f"CONTROLLER://{controller}"]
        advertised = [f"PLAINTEXT://127.0.0.1:{state.port}"]
        protocols = ["PLAINTEXT:PLAINTEXT", "CONTROLLER:PLAINTEXT"]
        if state.proxied_port and state.proxy_port:
            listeners.append(f"PROXIED://127.0.0.1:{state.proxied_port}")
            advertised.append(f"PROXIED://127.0.0.1:{state.proxy_port}")
            protocols.append("PROXIED:PLAINTEXT")
        properties = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": ",".join(listeners),
            "advertised.listeners": ",".join(advertised),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": ",".join(protocols),
            "log.dirs": str(data),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "10",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.segment.bytes": str(64 * 1024 * 1024),
            "log.cleaner.dedupe.buffer.size": str(16 * 1024 * 1024),
        }
        path = self.data_dir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
        return path

    def _java(self, jars: Path, main: str, *args: str, heap: str) -> list[str]:
        return [
            "java", f"-Xmx{heap}", f"-Xms{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self._log4j_config}",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            "-cp", f"{jars}/*", main, *args,
        ]  # fmt: skip

    def _format(self, jars: Path, config: Path, state: BrokerState) -> None:
        command = self._java(
            jars, "kafka.tools.StorageTool", "format", "--standalone",
            "-t", state.cluster_id, "-c", str(config), heap="128m",
        )  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BrokerError(
                f"formatting the KRaft storage failed:\n{result.stdout}{result.stderr}"
            )

    def _spawn(self, jars: Path, config: Path) -> subprocess.Popen[bytes]:
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        console = (self.data_dir / "logs" / "console.log").open("ab")
        with console:
            return subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                self._java(jars, "kafka.Kafka", str(config), heap=self._heap),
                stdout=console,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BrokerError(
                    f"broker exited with code {process.returncode}:\n{self._log_tail()}"
                )
            if self.is_ready():
                return
            time.sleep(0.25)
        process.kill()
        raise BrokerError(f"broker did not answer within {_READY_TIMEOUT_S}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        lines: list[str] = []
        for log in (self.data_dir / "logs" / "console.log", self.log_file):
            if log.is_file():
                lines += log.read_text(errors="replace").splitlines()[-30:]
        return "\n".join(lines)


def _cluster_id() -> str:
    """A KRaft cluster id: a URL-safe base64 UUID that does not start with '-'.

    Kafka's own ``Uuid.randomUuid`` skips such ids because command lines read them as options;
    the storage tool refuses them.
    """
    while True:
        candidate = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate
