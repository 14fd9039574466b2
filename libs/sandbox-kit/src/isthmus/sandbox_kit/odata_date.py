"""OData JSON dates ``/Date(ms)/`` and ``/Date(ms+0000)/``, and the ISO timestamps behind them."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeGuard

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_ms(moment: dt.datetime) -> int:
    """Milliseconds since the epoch for an aware or naive-UTC datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int((moment - _EPOCH).total_seconds() * 1000)


def from_ms(ms: int) -> dt.datetime:
    """The UTC datetime of a millisecond timestamp."""
    return _EPOCH + dt.timedelta(milliseconds=ms)


def parse_iso(text: str) -> dt.datetime:
    """An ISO-8601 timestamp (``Z`` or offset or naive = UTC) as an aware datetime.

    Raises:
        ValueError: not an ISO timestamp.
    """
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def format_date(moment: dt.datetime | int, *, offset: bool = False) -> str:
    """``/Date(ms)/``, or with ``offset`` ``/Date(ms+0000)/`` (the Edm.DateTimeOffset form)."""
    ms = moment if isinstance(moment, int) else to_ms(moment)
    return f"/Date({ms}+0000)/" if offset else f"/Date({ms})/"


def is_date(text: object) -> TypeGuard[str]:
    """Whether ``text`` is a ``/Date(ms)/`` or ``/Date(ms±hhmm)/`` string."""
    return isinstance(text, str) and _DATE.match(text) is not None


def parse_date(text: str) -> int:
    """The milliseconds of ``/Date(ms)/`` or ``/Date(ms±hhmm)/`` (the offset only annotates).

    Raises:
        ValueError: ``text`` is no ``/Date(...)/`` string.
    """
    match = _DATE.match(text)
    if match is None:
        raise ValueError(f"not an OData date: {text!r}")
    return int(match.group(1))
