"""Loop prevention: is an incoming event the echo of Isthmus's own last write?

The sinks record each write as an ``EntityState`` (source WRITE) in the compacted state topics:
the written fields in normalised string form and their fingerprint. An incoming event is an echo
when it was made by the integration user AND the same fields of the incoming record normalise to
the same fingerprint. Either condition alone is not enough: a person may change a record the
integration wrote, and the integration may legitimately write the same content twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


def normalise(value: Any) -> str | None:
    """One field in the state topics' string form: decimals plain, dates/times ISO-8601."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int | Decimal):
        text = format(Decimal(str(value)).normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, dt.datetime):
        moment = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return json.dumps(value, sort_keys=True, default=normalise, separators=(",", ":"))


def fingerprint(fields: Mapping[str, str | None]) -> str:
    """SHA-256 (hex) of the normalised fields as canonical JSON."""
    canonical = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class LastWrite:
    """What Isthmus last wrote to one record."""

    field_names: tuple[str, ...]
    fingerprint: str


class LastWrites:
    """The last write per (system, key), fed from the state topics."""

    def __init__(self) -> None:
        self._writes: dict[tuple[str, str], LastWrite] = {}

    def record(self, *, system: str, key: str, fields: Mapping[str, str | None]) -> None:
        """Remember a write (a WRITE ``EntityState``)."""
        self._writes[(system, key)] = LastWrite(tuple(sorted(fields)), fingerprint(fields))

    def forget(self, *, system: str, key: str) -> None:
        """Drop a record's write (it was deleted)."""
        self._writes.pop((system, key), None)

    def is_echo(
        self,
        *,
        system: str,
        key: str,
        origin_user: str | None,
        integration_user: str | None,
        data: Mapping[str, Any],
    ) -> bool:
        """True when ``data`` by ``origin_user`` repeats the last write to ``key``."""
        if integration_user is None or origin_user is None:
            return False
        if origin_user.lower() != integration_user.lower():
            return False
        last = self._writes.get((system, key))
        if last is None:
            return False
        current = {name: normalise(data.get(name)) for name in last.field_names}
        return fingerprint(current) == last.fingerprint
