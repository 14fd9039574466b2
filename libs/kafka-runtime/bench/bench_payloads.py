"""Realistic Avro records for the benchmark: sales-order sized, Zipf-skewed business keys."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

Json = Any
_NULL_SHARE = 0.2
_LINE_FIELDS = ("detail", "item", "line")


class RecordFactory:
    """Builds plausible values for any Avro schema (ids look like GUIDs, amounts like money)."""

    def __init__(self, *, seed: int = 7) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
        self._named: dict[str, Json] = {}
        self._complex: dict[str, Callable[[Json, str], Any]] = {
            "record": self._record,
            "enum": lambda schema, _name: self._rng.choice(schema["symbols"]),
            "array": self._array,
            "map": lambda schema, name: {
                f"k{i}": self._value(schema["values"], name=name) for i in range(2)
            },
            "fixed": lambda schema, _name: self._rng.randbytes(schema["size"]),
        }

    def record(self, schema: Json) -> dict[str, Any]:
        """One record of ``schema`` (a self-contained schema as parsed JSON)."""
        value = self._value(schema, name="")
        if not isinstance(value, dict):
            raise TypeError("the schema is not a record")
        return value

    def _value(self, schema: Json, *, name: str) -> Any:
        if isinstance(schema, list):
            return self._union(schema, name=name)
        if isinstance(schema, str):
            if schema in self._named:
                return self._value(self._named[schema], name=name)
            return self._primitive(schema, name=name)
        if "logicalType" in schema:
            return self._logical(schema)
        kind = schema["type"]
        if "name" in schema:
            self._named[schema["name"]] = schema
            self._named[f"{schema.get('namespace', '')}.{schema['name']}".lstrip(".")] = schema
        handler = self._complex.get(kind)
        return handler(schema, name) if handler else self._value(kind, name=name)

    def _record(self, schema: Json, _name: str) -> dict[str, Any]:
        return {f["name"]: self._value(f["type"], name=f["name"]) for f in schema["fields"]}

    def _array(self, schema: Json, name: str) -> list[Any]:
        lines = any(part in name.lower() for part in _LINE_FIELDS)
        count = self._rng.randint(3, 8) if lines else 2
        return [self._value(schema["items"], name=name) for _ in range(count)]

    def _union(self, branches: list[Json], *, name: str) -> Any:
        concrete = [b for b in branches if b != "null"]
        if len(concrete) < len(branches) and self._rng.random() < _NULL_SHARE:
            return None
        return self._value(self._rng.choice(concrete), name=name)

    def _primitive(self, kind: str, *, name: str) -> Any:
        rng = self._rng
        makers: dict[str, Callable[[], Any]] = {
            "string": lambda: self._string(name),
            "int": lambda: rng.randint(0, 100_000),
            "long": lambda: rng.randint(0, 10_000_000),
            "double": lambda: round(rng.uniform(0, 10_000), 2),
            "float": lambda: round(rng.uniform(0, 100), 2),
            "boolean": lambda: rng.random() < 0.5,  # noqa: PLR2004 - a fair coin
            "bytes": lambda: rng.randbytes(16),
        }
        maker = makers.get(kind)
        return maker() if maker else None

    def _logical(self, schema: Json) -> Any:
        rng = self._rng
        logical = schema["logicalType"]
        if logical == "decimal":
            scale = int(schema.get("scale", 0))
            whole = 10 ** min(6, int(schema.get("precision", 10)) - scale - 1)
            return Decimal(rng.randint(0, whole * 10**scale)).scaleb(-scale)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        makers: dict[str, Callable[[], Any]] = {
            "timestamp-millis": lambda: start + timedelta(seconds=rng.randint(0, 10**7)),
            "timestamp-micros": lambda: start + timedelta(seconds=rng.randint(0, 10**7)),
            "date": lambda: date(2026, 1, 1) + timedelta(days=rng.randint(0, 365)),
            "uuid": lambda: str(uuid.UUID(int=rng.getrandbits(128))),
        }
        maker = makers.get(logical)
        return maker() if maker else self._value(schema["type"], name="")

    def _string(self, name: str) -> str:
        lowered = name.lower()
        if lowered.endswith(("id", "_value")):
            return str(uuid.UUID(int=self._rng.getrandbits(128)))
        if "code" in lowered or "country" in lowered:
            return "".join(self._rng.choices(string.ascii_uppercase, k=3))
        words = self._rng.randint(1, 4)
        return " ".join(
            "".join(self._rng.choices(string.ascii_lowercase, k=self._rng.randint(3, 9)))
            for _ in range(words)
        )


def zipf_keys(*, count: int, distinct: int, seed: int = 11) -> list[bytes]:
    """``count`` business keys over ``distinct`` values with a Zipf-ish skew (s = 1.1)."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    weights = [1 / (rank**1.1) for rank in range(1, distinct + 1)]
    ranks = rng.choices(range(distinct), weights=weights, k=count)
    return [f"so-{rank:06d}".encode() for rank in ranks]
