"""pytest fixtures for sandbox_d365 (filled in by its component)."""
