"""The ``isthmus`` command: the root typer app with one sub-app per command group."""

from __future__ import annotations

import typer

from isthmus.cli import flows, replay, trace

app = typer.Typer(
    name="isthmus",
    help="Operate Isthmus: replay dead letters, flows, and trace records across hops.",
    no_args_is_help=True,
)
app.add_typer(replay.app, name="replay")
app.add_typer(flows.app, name="flows")
app.command("trace")(trace.trace)
