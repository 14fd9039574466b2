"""Run the local system's processes side by side, with prefixed, coloured logs on one console.

Each child writes its own log file under ``.local/logs/`` (kept after the run); one thread
follows every file and echoes new lines to the console as ``name | line``. Children start in
order and each waits until its readiness URL answers; they stop in reverse order.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from isthmus.devenv.process import ManagedProcess

logger = logging.getLogger(__name__)

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "white")
_TAIL_INTERVAL_S = 0.2
_MAX_RESTART_DELAY_S = 60.0


@dataclass(frozen=True)
class ChildSpec:
    """One process of the local system."""

    name: str
    argv: list[str]
    ready_url: str | None = None
    ca_file: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    ready_timeout_s: float = 90.0


@dataclass
class _Tailed:
    name: str
    path: Path
    colour: str
    offset: int = 0
    partial: bytes = b""


class Supervisor:
    """Starts children, echoes their logs, notices when one dies, and stops them all."""

    def __init__(self, *, log_dir: Path, console: Console) -> None:
        self._log_dir = log_dir
        self._console = console
        self._children: list[tuple[ChildSpec, ManagedProcess]] = []
        self._children_lock = threading.Lock()  # restarts run on a watcher thread
        self._tailed: list[_Tailed] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="log-tail", daemon=True)
        self._backoff: dict[str, float] = {}
        self._due: dict[str, float] = {}

    def start(self, spec: ChildSpec) -> ManagedProcess:
        """Start ``spec`` and wait until it is ready.

        Raises:
            ServiceStartError: the child exited or did not become ready in time.
        """
        log_file = self._log_dir / f"{spec.name}.log"
        log_file.parent.mkdir(parents=True, exist_ok=True)
        offset = log_file.stat().st_size if log_file.exists() else 0
        colour = _COLOURS[len(self._tailed) % len(_COLOURS)]
        with self._lock:
            self._tailed.append(_Tailed(spec.name, log_file, colour, offset))
        if not self._thread.is_alive():
            self._thread.start()
        process = ManagedProcess(name=spec.name, argv=spec.argv, log_file=log_file, env=spec.env)
        process.start()
        with self._children_lock:
            self._children.append((spec, process))
        if spec.ready_url:
            process.wait_http_ready(
                spec.ready_url, ca_file=spec.ca_file, timeout_s=spec.ready_timeout_s
            )
        return process

    def restart(self, name: str) -> ManagedProcess:
        """Start the exited child ``name`` again with its spec (without waiting for ready).

        Raises:
            KeyError: no child has that name.
        """
        with self._children_lock:
            found = next(
                ((i, s) for i, (s, _p) in enumerate(self._children) if s.name == name), None
            )
            if found is None:
                raise KeyError(name)
            index, spec = found
            log_file = self._log_dir / f"{spec.name}.log"
            process = ManagedProcess(
                name=spec.name, argv=spec.argv, log_file=log_file, env=spec.env
            )
            process.start()
            self._children[index] = (spec, process)
        return process

    def stop(self, name: str) -> int | None:
        """Stop child ``name`` (SIGTERM, then SIGKILL) and forget it: it is not restarted.

        Returns its exit code.

        Raises:
            KeyError: no child has that name.
        """
        with self._children_lock:
            found = next(((s, p) for s, p in self._children if s.name == name), None)
            if found is None:
                raise KeyError(name)
            self._children.remove(found)
            self._due.pop(name, None)
        return found[1].stop()

    def pid(self, name: str) -> int | None:
        """The process id of child ``name`` while it runs."""
        with self._children_lock:
            return next((p.pid for s, p in self._children if s.name == name), None)

    def pids(self) -> dict[str, int | None]:
        """The process id of every child by name, in start order (None once one has ended)."""
        with self._children_lock:
            children = list(self._children)
        return {
            spec.name: None if process.returncode() is not None else process.pid
            for spec, process in children
        }

    def restart_exited(self) -> list[tuple[str, int, float]]:
        """Restart children that exited, as Kubernetes would: after 1 s, doubling to 60 s.

        Call it periodically; returns ``(name, exit code, delay)`` for each exit it noticed now.
        """
        now = time.monotonic()
        noticed = []
        for name, code in self.exited():
            if name not in self._due:
                delay = min(self._backoff.get(name, 0.5) * 2, _MAX_RESTART_DELAY_S)
                self._backoff[name], self._due[name] = delay, now + delay
                noticed.append((name, code, delay))
            elif now >= self._due[name]:
                del self._due[name]
                with contextlib.suppress(KeyError):  # stopped meanwhile on purpose
                    self.restart(name)
        return noticed

    def exited(self) -> list[tuple[str, int]]:
        """Children that ended on their own, with their exit codes."""
        with self._children_lock:
            children = list(self._children)
        codes = [(spec.name, process.returncode()) for spec, process in children]
        return [(name, code) for name, code in codes if code is not None]

    def stop_all(self) -> None:
        """Stop every child in reverse start order (SIGTERM, then SIGKILL), then the tailer."""
        with self._children_lock:
            children, self._children = self._children, []
        for spec, process in reversed(children):
            code = process.stop()
            logger.info("%s stopped (exit %s)", spec.name, code)
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._drain()

    def _follow(self) -> None:
        while not self._stop.wait(_TAIL_INTERVAL_S):
            self._drain()

    def _drain(self) -> None:
        with self._lock:
            tailed = list(self._tailed)
        for item in tailed:
            self._echo(item)

    def _echo(self, item: _Tailed) -> None:
        try:
            with item.path.open("rb") as handle:
                handle.seek(item.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        if not chunk:
            return
        item.offset += len(chunk)
        lines = (item.partial + chunk).split(b"\n")
        item.partial = lines.pop()
        for line in lines:
            text = escape(line.decode("utf-8", errors="replace").rstrip())
            self._console.print(f"[{item.colour}]{item.name:>14} |[/] {text}", highlight=False)
