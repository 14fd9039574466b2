"""``isthmus replay``: move dead-lettered records back to their source topics."""

from __future__ import annotations

import typer

app = typer.Typer(help="Browse and replay dead-lettered records.", no_args_is_help=True)
