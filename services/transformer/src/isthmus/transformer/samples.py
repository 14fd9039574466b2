"""Sample events (JSON, as in flows/samples/) in the Python types fastavro writes for a schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any


def avro_typed(  # noqa: PLR0911 - one return per Avro type family
    value: Any, schema: Any, named: dict[str, Any] | None = None
) -> Any:
    """``value`` with decimals, dates and timestamps as ``schema`` declares them.

    Raises:
        ValueError: a date or timestamp text does not parse.
    """
    named = {} if named is None else named
    if isinstance(schema, list):
        options = [option for option in schema if option != "null"]
        return None if value is None else avro_typed(value, options[0], named)
    if isinstance(schema, str):
        return avro_typed(value, named[schema], named) if schema in named else value
    logical = schema.get("logicalType")
    if logical is not None and value is not None:
        return _logical(value, logical)
    kind = schema["type"]
    if kind in ("record", "enum", "fixed"):
        named[schema["name"]] = schema
        if "namespace" in schema:
            named[f"{schema['namespace']}.{schema['name']}"] = schema
    if kind == "record":
        return {
            field["name"]: avro_typed(value.get(field["name"]), field["type"], named)
            for field in schema["fields"]
        }
    if kind == "array":
        return [avro_typed(item, schema["items"], named) for item in value]
    if kind == "map":
        return {key: avro_typed(item, schema["values"], named) for key, item in value.items()}
    return value


def _logical(value: Any, logical: str) -> Any:
    if logical == "decimal":
        return Decimal(str(value))
    if logical == "date":
        return dt.date.fromisoformat(value)
    if logical in ("timestamp-millis", "timestamp-micros"):
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if logical == "time-millis":
        return dt.time.fromisoformat(value)
    return value
