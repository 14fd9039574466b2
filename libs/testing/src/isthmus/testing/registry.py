"""pytest fixtures for registry (filled in by its component)."""
