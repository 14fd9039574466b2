"""Dates and times: ISO-8601 UTC, OData V2 `/Date(ms)/`, SAP DATS, time zones, formatting."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from functools import lru_cache
from typing import Any

from isthmus.mapping.errors import ConversionError, EvaluationError
from isthmus.mapping.functions.registry import Function, fn
from isthmus.mapping.values import integer, text
from isthmus.schemas.odata_date import format_odata_date, parse_millis

UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_ODATA_DATE_DIGITS = 15
_SAP_DATS = re.compile(r"^\d{8}$")
_ISO_DATE_LENGTH = len("2024-01-31")


def parse_datetime(value: Any) -> dt.datetime:
    """A timestamp as an aware UTC datetime (naive ISO text is read as UTC).

    Raises:
        ConversionError: naming the value when it is no timestamp.
    """
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=UTC)
    source = text(value, where="to_datetime").strip() if isinstance(value, str) else None
    if source is None:
        raise ConversionError(value=value, target_type="datetime")
    millis = parse_millis(source, max_digits=_ODATA_DATE_DIGITS)
    if millis is not None:
        return _EPOCH + dt.timedelta(milliseconds=millis)
    if _SAP_DATS.match(source):
        return parse_datetime(parse_date(source))
    try:
        parsed = dt.datetime.fromisoformat(source)
    except ValueError as exc:
        raise ConversionError(value=value, target_type="datetime", detail=str(exc)) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_date(value: Any) -> dt.date:
    """A calendar date; a timestamp gives its UTC date, SAP 'YYYYMMDD' is accepted.

    Raises:
        ConversionError: naming the value when it is no date.
    """
    if isinstance(value, str):
        source = value.strip()
        if len(source) != _ISO_DATE_LENGTH:  # SAP DATS (8 characters) or a timestamp
            return _date_of_text(value, source)
        try:
            return dt.date.fromisoformat(source)
        except ValueError as exc:
            raise ConversionError(value=value, target_type="date", detail=str(exc)) from exc
    if isinstance(value, dt.datetime):
        return parse_datetime(value).date()
    if isinstance(value, dt.date):
        return value
    raise ConversionError(value=value, target_type="date")


def _date_of_text(value: str, source: str) -> dt.date:
    try:
        if _SAP_DATS.match(source):
            return dt.date(int(source[:4]), int(source[4:6]), int(source[6:]))
    except ValueError as exc:
        raise ConversionError(value=value, target_type="date", detail=str(exc)) from exc
    return parse_datetime(source).date()


def odata_date(value: Any) -> str:
    """OData V2 Edm.DateTime for a date: `/Date(<ms of midnight UTC>)/`."""
    return format_odata_date(parse_date(value))


def odata_datetime(value: Any) -> str:
    """OData V2 Edm.DateTimeOffset: `/Date(<ms>+0000)/`."""
    return format_odata_date(parse_datetime(value), offset="+0000")


def iso_datetime(value: Any) -> str:
    """ISO-8601 UTC as Dataverse writes it: `2024-06-12T14:13:25Z` (milliseconds only if set)."""
    moment = parse_datetime(value)
    spec = "seconds" if moment.microsecond == 0 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")


def iso_date(value: Any) -> str:
    """ISO-8601 date `YYYY-MM-DD` (Dataverse DateOnly, SAP SOAP dates)."""
    return parse_date(value).isoformat()


def sap_date(value: Any) -> str:
    """SAP DATS `YYYYMMDD`."""
    return parse_date(value).strftime("%Y%m%d")


@lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise EvaluationError(f"unknown time zone {name!r}") from exc


def in_timezone(value: Any, zone: Any) -> dt.datetime:
    """The same instant seen in an IANA time zone (e.g. 'Europe/Berlin')."""
    return parse_datetime(value).astimezone(_zone(text(zone, where="time zone")))


def local_date(value: Any, zone: Any) -> dt.date:
    """The calendar date of an instant in a time zone (for date-only target fields)."""
    return in_timezone(value, zone).date()


def format_datetime(value: Any, pattern: Any) -> str:
    """strftime-style formatting of a date or timestamp (`%Y%m%d`, `%d.%m.%Y %H:%M`)."""
    moment: dt.date = value if isinstance(value, dt.date) else parse_datetime(value)
    return moment.strftime(text(pattern, where="format pattern"))


def add_days(value: Any, days: Any) -> dt.date | dt.datetime:
    """A date or timestamp moved by whole days."""
    moment: dt.date = value if isinstance(value, dt.date) else parse_datetime(value)
    return moment + dt.timedelta(days=integer(days, where="add_days"))


FUNCTIONS: tuple[Function, ...] = (
    fn("odata_date", odata_date, (1, 1), "date as /Date(ms)/"),
    fn("odata_datetime", odata_datetime, (1, 1), "timestamp as /Date(ms+0000)/"),
    fn("iso_datetime", iso_datetime, (1, 1), "timestamp as ISO-8601 UTC"),
    fn("iso_date", iso_date, (1, 1), "date as YYYY-MM-DD"),
    fn("sap_date", sap_date, (1, 1), "date as YYYYMMDD"),
    fn("in_timezone", in_timezone, (2, 2), "instant in a time zone"),
    fn("local_date", local_date, (2, 2), "date of an instant in a time zone"),
    fn("format_datetime", format_datetime, (2, 2), "strftime formatting"),
    fn("add_days", add_days, (2, 2), "move by days"),
)
