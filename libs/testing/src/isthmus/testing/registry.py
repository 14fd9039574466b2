"""pytest fixtures of the schema registry path: one real Apicurio Registry per test session.

Set ``ISTHMUS_TEST_SCHEMA_REGISTRY`` to a Confluent-compatible URL to use a running registry.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from isthmus.devenv.registry import local_registry


@dataclass(frozen=True)
class SchemaRegistry:
    """The registry a test session talks to."""

    url: str
    """Confluent-compatible API (Apicurio: ``.../apis/ccompat/v7``)."""


@pytest.fixture(scope="session")
def schema_registry(repo_root: Path) -> Iterator[SchemaRegistry]:
    """A real Apicurio Registry (in-memory) on a free loopback port, for the whole session."""
    external = os.environ.get("ISTHMUS_TEST_SCHEMA_REGISTRY")
    if external:
        yield SchemaRegistry(url=external)
        return
    registry = local_registry(root=repo_root, name=f"test-registry-{uuid.uuid4().hex[:8]}")
    try:
        yield SchemaRegistry(url=registry.up().url)
    finally:
        registry.down()
        shutil.rmtree(registry.data_dir, ignore_errors=True)
