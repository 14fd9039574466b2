"""Sandbox entry point (placeholder until the service lands)."""


def main() -> None:
    """Start the sandbox."""
    raise SystemExit("not implemented yet")
