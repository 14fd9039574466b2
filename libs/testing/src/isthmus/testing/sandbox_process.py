"""A sandbox emulator as a child process on a loopback port, for tests and benchmarks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from isthmus.devenv.ports import free_port
from isthmus.devenv.process import ManagedProcess
from isthmus.devenv.tls import LocalTls

HEALTH_PATH = "/_sandbox/health"


class SandboxProcess:
    """One emulator (``python -m <module>``) over HTTPS with the local CA, its database and
    log file in ``folder``.

    Without ``tls`` it serves plain HTTP: ``arguments`` then carries the sandbox's own flag
    for that (``--no-tls`` for S/4HANA, ``--plain-http`` for Dataverse).
    """

    def __init__(
        self,
        *,
        module: str,
        folder: Path,
        tls: LocalTls | None,
        port: int | None = None,
        name: str | None = None,
        env: dict[str, str] | None = None,
        arguments: tuple[str, ...] = (),
    ) -> None:
        self.module = module
        self.port = port or free_port()
        self.tls = tls
        self._process = ManagedProcess(
            name=name or module.rsplit(".", 1)[-1].replace("_", "-"),
            argv=[
                sys.executable,
                "-m",
                module,
                *(("--tls-dir", str(tls.ca_cert.parent)) if tls else ()),
                "--port",
                str(self.port),
                "--db",
                str(folder / "sandbox.db"),
                *arguments,
            ],
            log_file=folder / "sandbox.log",
            env=env,
        )

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>`` (``http://`` without TLS)."""
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid

    def start(self) -> None:
        """Start the process and wait until its health check answers."""
        self._process.start()
        self._process.wait_http_ready(
            f"{self.base_url}{HEALTH_PATH}", ca_file=self.tls.ca_cert if self.tls else None
        )

    def stop(self) -> int | None:
        """Stop the process; its exit code."""
        return self._process.stop()


@contextmanager
def running(process: SandboxProcess) -> Iterator[SandboxProcess]:
    """The process started (and healthy) inside the block, stopped after it."""
    try:
        process.start()
        yield process
    finally:
        process.stop()
