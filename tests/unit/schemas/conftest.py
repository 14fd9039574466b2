"""Fixtures of the schema tests: the real catalogue and hypothesis strategies for Avro values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

from isthmus.schemas import SchemaCatalogue

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_INT = st.integers(-(2**31), 2**31 - 1)
_LONG = st.integers(-(2**63), 2**63 - 1)
_MILLIS = st.integers(0, 4_102_444_800_000)  # 1970 .. 2100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def catalogue(repo_root: Path) -> SchemaCatalogue:
    """The project's schemas/ catalogue."""
    return SchemaCatalogue.load(repo_root / "schemas")


@pytest.fixture(scope="session")
def values_of() -> Callable[[Any], st.SearchStrategy[Any]]:
    """``values_of(parsed_schema)``: a strategy of values valid for that schema."""
    return records_of


def records_of(schema: Any) -> st.SearchStrategy[Any]:
    """Values valid for ``schema``; named types are resolved as they are defined in the schema."""
    return _Builder().build(schema)


class _Builder:
    def __init__(self) -> None:
        self._named: dict[str, Any] = {}

    def build(self, schema: Any) -> st.SearchStrategy[Any]:
        if isinstance(schema, list):
            return st.one_of([self.build(branch) for branch in schema])
        if isinstance(schema, str):
            return self._primitive(schema) if schema not in self._named else self._deferred(schema)
        if schema.get("logicalType") is not None:
            return _logical(schema)
        kind = schema["type"]
        if kind in ("record", "error", "enum", "fixed"):
            self._named[schema["name"]] = schema
            return self._named_type(schema)
        return self._container(schema)

    def _container(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        if schema["type"] == "array":
            return st.lists(self.build(schema["items"]), max_size=3)
        if schema["type"] == "map":
            return st.dictionaries(_TEXT, self.build(schema["values"]), max_size=3)
        return self.build(schema["type"])

    def _named_type(self, schema: dict[str, Any]) -> st.SearchStrategy[Any]:
        if schema["type"] == "enum":
            return st.sampled_from(schema["symbols"])
        if schema["type"] == "fixed":
            return st.binary(min_size=schema["size"], max_size=schema["size"])
        fields = {field["name"]: self.build(field["type"]) for field in schema["fields"]}
        return st.fixed_dictionaries(fields)

    def _deferred(self, name: str) -> st.SearchStrategy[Any]:
        named = self._named[name]
        if named["type"] == "enum":
            return st.sampled_from(named["symbols"])
        return st.deferred(lambda: _Builder().build(named))

    @staticmethod
    def _primitive(name: str) -> st.SearchStrategy[Any]:
        return {
            "null": st.none(),
            "boolean": st.booleans(),
            "int": _INT,
            "long": _LONG,
            "float": st.floats(width=32, allow_nan=False),
            "double": st.floats(allow_nan=False),
            "bytes": st.binary(max_size=16),
            "string": _TEXT,
        }[name]


def _logical(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    logical = schema["logicalType"]
    if logical == "decimal":
        precision, scale = schema["precision"], schema.get("scale", 0)
        bound = 10**precision - 1
        return st.integers(-bound, bound).map(lambda unscaled: Decimal(unscaled).scaleb(-scale))
    if logical == "timestamp-millis":
        return _MILLIS.map(lambda ms: _EPOCH + timedelta(milliseconds=ms))
    if logical == "date":
        return st.dates()
    if logical == "time-millis":
        return st.integers(0, 86_399_999).map(
            lambda ms: time(ms // 3_600_000, ms // 60_000 % 60, ms // 1000 % 60, ms % 1000 * 1000)
        )
    raise NotImplementedError(f"no strategy for logical type {logical}")
