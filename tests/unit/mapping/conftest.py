"""Fixtures for the mapping engine tests: the shipped tables and a small flow builder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from isthmus.mapping import Flow, StaticTable, load_flow_text, load_tables
from isthmus.mapping.expressions.compiler import Environment, compile_expression
from isthmus.mapping.expressions.scope import Scope
from isthmus.mapping.lookups import InMemoryLookups

FLOWS = Path(__file__).resolve().parents[3] / "flows"


@pytest.fixture(scope="session")
def tables() -> dict[str, StaticTable]:
    """The lookup tables shipped under flows/lookups."""
    return load_tables(FLOWS / "lookups")


@pytest.fixture
def evaluate(tables: dict[str, StaticTable]) -> Callable[..., Any]:
    """Compile and run one expression against a record (with optional xref pairs)."""

    def run(
        expression: str, record: Any = None, xref: dict[str, dict[str, str]] | None = None
    ) -> Any:
        evaluator = compile_expression(expression, env=Environment(tables=tables))
        scope = Scope(current=record, root=record, lookups=InMemoryLookups(xref or {}))
        return evaluator(scope)

    return run


@pytest.fixture
def make_flow(tables: dict[str, StaticTable]) -> Callable[..., Flow]:
    """Build a flow from just a mapping (and optional extra sections)."""

    def build(mapping: dict[str, Any], **sections: Any) -> Flow:
        document = {
            "id": "test-flow",
            "version": 1,
            "trigger": {
                "system": "d365",
                "topic": "d365.salesorder.events",
                "event_types": ["Create"],
            },
            "target": {"system": "s4", "topic": "s4.salesorder.commands", "command_type": "Test"},
            "mapping": mapping,
            **sections,
        }
        return load_flow_text(
            yaml.safe_dump(document, sort_keys=False), tables=tables, source="test-flow.yaml"
        )

    return build
