"""JSON (API or OData shaped) to the Python values fastavro writes, listing every violation.

Accepted forms: decimals as numbers or strings; dates ``YYYY-MM-DD`` or ``/Date(ms)/``;
timestamps RFC 3339 or ``/Date(ms[+hhmm])/``; times ``HH:MM:SS`` or OData ``PT12H30M00S``;
OData V2 collections ``{"results": [...]}`` as arrays. ``strict`` (the publish API) also reports
unknown fields and decimals with more places than the scale; otherwise (source records) float
noise is rounded to the scale.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.schemas import odata_date

_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.\d+)?S)?$")
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


@dataclass
class Conversion:
    """The converted value and every violation found (``path: problem``)."""

    value: Any = None
    violations: list[str] = field(default_factory=list)


def convert(value: Any, schema: Any, *, strict: bool) -> Conversion:
    """Convert ``value`` to ``schema`` (a parsed self-contained Avro schema as JSON)."""
    result = Conversion()
    result.value = _Walker(strict=strict, violations=result.violations).walk(value, schema, "$")
    return result


class _Walker:
    def __init__(self, *, strict: bool, violations: list[str]) -> None:
        self.strict = strict
        self.violations = violations
        self.named: dict[str, Any] = {}

    def fail(self, path: str, problem: str) -> None:
        self.violations.append(f"{path}: {problem}")

    def walk(self, value: Any, schema: Any, path: str) -> Any:
        if isinstance(schema, list):
            return self._union(value, schema, path)
        if isinstance(schema, str):
            if schema in self.named:
                return self.walk(value, self.named[schema], path)
            return self._primitive(value, schema, path)
        logical = schema.get("logicalType")
        if logical is not None:
            return self._logical(value, schema, logical, path)
        kind = schema["type"]
        if kind in ("record", "enum", "fixed"):
            self.named[schema["name"]] = schema
            self.named[_full_name(schema)] = schema
        handler = {
            "record": self._record,
            "array": self._array,
            "map": self._map,
            "enum": self._enum,
        }.get(kind)
        if handler is not None:
            return handler(value, schema, path)
        return self.walk(value, kind, path)

    def _union(self, value: Any, options: list[Any], path: str) -> Any:
        if value is None:
            if "null" not in options:
                self.fail(path, "must not be null")
            return None
        non_null = [option for option in options if option != "null"]
        for option in non_null:
            trial = _Walker(strict=self.strict, violations=[])
            trial.named = self.named
            converted = trial.walk(value, option, path)
            if not trial.violations:
                return converted
        return self.walk(value, non_null[0], path) if non_null else None

    def _record(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        if not isinstance(value, Mapping):
            self.fail(path, f"expected an object ({schema['name']})")
            return None
        out: dict[str, Any] = {}
        known = set()
        for spec in schema["fields"]:
            name = spec["name"]
            known.add(name)
            if name in value:
                out[name] = self.walk(value[name], spec["type"], f"{path}.{name}")
            elif "default" in spec:
                out[name] = _default(spec["default"], spec["type"])
            else:
                self.fail(f"{path}.{name}", "required field is missing")
        if self.strict:
            for extra in sorted(set(value) - known):
                self.fail(f"{path}.{extra}", "unknown field")
        return out

    def _array(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        if isinstance(value, Mapping) and isinstance(value.get("results"), list):
            value = value["results"]
        if not isinstance(value, list):
            self.fail(path, "expected an array")
            return []
        return [self.walk(item, schema["items"], f"{path}[{i}]") for i, item in enumerate(value)]

    def _map(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        if not isinstance(value, Mapping):
            self.fail(path, "expected an object (map)")
            return {}
        return {str(k): self.walk(v, schema["values"], f"{path}.{k}") for k, v in value.items()}

    def _enum(self, value: Any, schema: Mapping[str, Any], path: str) -> Any:
        if value not in schema["symbols"]:
            self.fail(path, f"expected one of {', '.join(schema['symbols'])}")
        return value

    def _primitive(self, value: Any, kind: str, path: str) -> Any:
        checks = {
            "string": lambda v: isinstance(v, str),
            "boolean": lambda v: isinstance(v, bool),
            "int": lambda v: _is_int(v, _INT_RANGE),
            "long": lambda v: _is_int(v, _LONG_RANGE),
            "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
            "null": lambda v: v is None,
            "bytes": lambda v: isinstance(v, str),
        }
        check = checks.get(kind)
        if check is None:
            self.fail(path, f"unsupported type {kind}")
            return value
        if isinstance(value, str) and kind in ("int", "long") and re.fullmatch(r"-?\d+", value):
            value = int(value)
        if not check(value):
            self.fail(path, f"expected {kind}")
            return value
        return value.encode() if kind == "bytes" else value

    def _logical(self, value: Any, schema: Mapping[str, Any], logical: str, path: str) -> Any:
        parser = {
            "decimal": _decimal if self.strict else _rounded_decimal,
            "date": _date,
            "timestamp-millis": _timestamp,
            "timestamp-micros": _timestamp,
            "time-millis": _time,
            "uuid": _text,
        }.get(logical)
        if parser is None:
            return self.walk(value, schema["type"], path)
        try:
            parsed = parser(value, schema)
        except (ValueError, InvalidOperation, TypeError) as exc:
            self.fail(path, f"expected {logical} ({exc})")
            return None
        return parsed


def _full_name(schema: Mapping[str, Any]) -> str:
    name = str(schema["name"])
    namespace = schema.get("namespace")
    return name if "." in name or not namespace else f"{namespace}.{name}"


def _default(default: Any, schema: Any) -> Any:
    if isinstance(default, list):
        return list(default)
    if isinstance(default, dict):
        return dict(default)
    return default


def _is_int(value: Any, bounds: tuple[int, int]) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]
    )


def _text(value: Any, _schema: Mapping[str, Any]) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _decimal(value: Any, schema: Mapping[str, Any]) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError("not a number")
    number = Decimal(str(value).strip())
    if not number.is_finite():
        raise ValueError("not finite")
    scale = int(schema.get("scale", 0))
    precision = int(schema["precision"])
    quantized = number.quantize(Decimal(1).scaleb(-scale))
    if quantized != number:
        raise ValueError(f"more than {scale} decimal places")
    if len(quantized.as_tuple().digits) > precision and quantized != 0:
        raise ValueError(f"more than {precision} digits")
    return quantized


def _rounded_decimal(value: Any, schema: Mapping[str, Any]) -> Decimal:
    """Like ``_decimal``, but binary-float noise from a source (``12.340000000000002``) is
    rounded half-even to the scale instead of refused."""
    if isinstance(value, float):
        value = str(Decimal(str(value)).quantize(Decimal(1).scaleb(-int(schema.get("scale", 0)))))
    return _decimal(value, schema)


def _date(value: Any, _schema: Mapping[str, Any]) -> dt.date:
    if not isinstance(value, str):
        raise TypeError("not a string")
    moment = odata_date.parse_datetime(value)
    if moment is not None:
        return moment.date()
    return dt.date.fromisoformat(value[:10])


def _timestamp(value: Any, _schema: Mapping[str, Any]) -> dt.datetime:
    if not isinstance(value, str):
        raise TypeError("not a string")
    moment = odata_date.parse_datetime(value)
    if moment is not None:
        return moment
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _time(value: Any, _schema: Mapping[str, Any]) -> dt.time:
    if not isinstance(value, str):
        raise TypeError("not a string")
    match = _DURATION.match(value)
    if match:
        hours, minutes, seconds = (int(part or 0) for part in match.groups())
        return dt.time(hours, minutes, seconds)
    return dt.time.fromisoformat(value)
