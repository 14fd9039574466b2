"""Fixtures of the registry-path tests: the catalogue and the unit tests' Avro value strategies."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from isthmus.schemas import SchemaCatalogue


def _unit_conftest() -> Any:
    """The strategies live in tests/unit/schemas/conftest.py; load that file once, by path."""
    path = Path(__file__).parents[2] / "unit" / "schemas" / "conftest.py"
    spec = importlib.util.spec_from_file_location("isthmus_schema_strategies", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_STRATEGIES = _unit_conftest()


@pytest.fixture(scope="session")
def catalogue(repo_root: Path) -> SchemaCatalogue:
    """The project's schemas/ catalogue."""
    return SchemaCatalogue.load(repo_root / "schemas")


@pytest.fixture(scope="session")
def values_of() -> Callable[[Any], st.SearchStrategy[Any]]:
    """``values_of(parsed_schema)``: a strategy of values valid for that schema."""
    strategy: Callable[[Any], st.SearchStrategy[Any]] = _STRATEGIES.records_of
    return strategy
