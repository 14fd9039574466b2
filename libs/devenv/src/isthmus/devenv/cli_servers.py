"""What ``isthmus-dev kafka`` and ``isthmus-dev registry`` share: start, and say the status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

import typer
from rich.console import Console

console = Console(stderr=True)
out = Console()

State = TypeVar("State")


class LocalServer(Protocol):
    """A local server process with a pid file (the broker, the registry)."""

    def pid(self) -> int | None:
        """The running process's pid, or None."""

    def is_ready(self) -> bool:
        """True when it answers."""


def start_server(
    *,
    up: Callable[[], State],
    waiting: str,
    failed: str,
    errors: tuple[type[Exception], ...],
) -> State:
    """Run ``up`` under a spinner; on one of ``errors`` print it and exit 1.

    Raises:
        typer.Exit: ``up`` raised one of ``errors`` (exit code 1).
    """
    try:
        with console.status(waiting):
            return up()
    except errors as exc:
        console.print(f"[red]{failed}:[/red] {exc}")
        raise typer.Exit(1) from exc


def report_status(*, name: str, server: LocalServer, address: Callable[[], str]) -> None:
    """Print whether ``server`` runs and answers.

    Raises:
        typer.Exit: 3 when it does not run, 1 when it runs but does not answer.
    """
    pid = server.pid()
    if pid is None:
        out.print(f"{name}: not running")
        raise typer.Exit(3)
    ready = server.is_ready()
    out.print(f"{name}: pid {pid}, {'ready' if ready else 'not answering'} on {address()}")
    if not ready:
        raise typer.Exit(1)
