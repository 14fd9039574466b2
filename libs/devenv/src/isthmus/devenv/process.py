"""Run a service as a child process with its own log file and wait until it answers HTTP."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from isthmus.telemetry.secrets import PROFILE_ENV


class ServiceStartError(RuntimeError):
    """The service exited or did not become ready; the message carries its log tail."""


class ManagedProcess:
    """One service process: started in its own session, stopped with SIGTERM then SIGKILL."""

    def __init__(
        self, *, name: str, argv: list[str], log_file: Path, env: dict[str, str] | None = None
    ) -> None:
        self.name = name
        self._argv = argv
        self._log_file = log_file
        # Local processes run the local profile (sandbox credentials allowed) unless the caller's
        # environment says otherwise.
        self._env = {PROFILE_ENV: "local", **os.environ, **(env or {})}
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return None if self._process is None else self._process.pid

    def returncode(self) -> int | None:
        """The exit code once the process ended by itself or was stopped; None while it runs."""
        return None if self._process is None else self._process.poll()

    def start(self) -> None:
        """Start the process; its stdout and stderr go to the log file."""
        self._log_file.parent.mkdir(parents=True, exist_ok=True)
        with self._log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - argv from our own code, no shell
                self._argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._env,
                start_new_session=True,
            )

    def wait_http_ready(
        self, url: str, *, ca_file: Path | None = None, timeout_s: float = 60.0
    ) -> None:
        """Poll ``url`` until it answers 2xx.

        Raises:
            ServiceStartError: the process exited or the URL did not answer 2xx in time.
        """
        context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise ServiceStartError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
                    if 200 <= response.status < 300:  # noqa: PLR2004
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise ServiceStartError(
            f"{self.name} not ready at {url} in {timeout_s}s:\n{self.log_tail()}"
        )

    def stop(self, *, timeout_s: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout_s``; return the exit code."""
        if self._process is None:
            return None
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        return self._process.returncode

    def kill(self) -> None:
        """SIGKILL at once (crash tests)."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of the log file."""
        if not self._log_file.is_file():
            return ""
        return "\n".join(self._log_file.read_text(errors="replace").splitlines()[-lines:])
