"""OData V2 ``/Date(ms)/`` and ``/Date(ms+hhmm)/`` values: format, parse, recognise.

The milliseconds are UTC; the offset only says which zone the writer was in.
"""

from __future__ import annotations

import datetime as dt
import re

_PATTERN = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def is_odata_date(text: str) -> bool:
    """Whether ``text`` is ``/Date(ms)/`` or ``/Date(ms+hhmm)/``."""
    return _PATTERN.match(text) is not None


def parse_millis(text: str, *, max_digits: int | None = None) -> int | None:
    """The UTC milliseconds of ``text``; None when it is no ``/Date(...)/`` value (or has more
    than ``max_digits`` digits)."""
    match = _PATTERN.match(text)
    if match is None:
        return None
    digits = match.group(1)
    if max_digits is not None and len(digits.lstrip("-")) > max_digits:
        return None
    return int(digits)


def parse_datetime(text: str) -> dt.datetime | None:
    """``text`` as an aware UTC datetime; None when it is no ``/Date(...)/`` value."""
    millis = parse_millis(text)
    return None if millis is None else dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC)


def millis_of(moment: dt.datetime) -> int:
    """Milliseconds since the epoch (floored, exact); a naive datetime is local time."""
    delta = (moment if moment.tzinfo else moment.astimezone()) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def format_odata_date(value: dt.date, *, offset: str | None = None) -> str:
    """``/Date(ms)/`` of a datetime, or of a date's midnight UTC; with ``offset`` (``+0000``)
    the ``Edm.DateTimeOffset`` form ``/Date(ms+0000)/``."""
    if isinstance(value, dt.datetime):
        moment = value
    else:
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return f"/Date({millis_of(moment)}{offset or ''})/"
