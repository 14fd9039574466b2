"""pytest fixtures for sandbox_s4 (filled in by its component)."""
