"""``/Date(ms)/`` strings and the ISO timestamps they stand for."""

from __future__ import annotations

import datetime as dt

import pytest

from isthmus.sandbox_kit import odata_date

pytestmark = pytest.mark.unit
MOMENT = dt.datetime(2017, 9, 26, 0, 4, 7, tzinfo=dt.UTC)


def test_format_date_from_ms_or_datetime() -> None:
    assert odata_date.format_date(1506384247000) == "/Date(1506384247000)/"
    assert odata_date.format_date(MOMENT) == "/Date(1506384247000)/"
    assert odata_date.format_date(MOMENT, offset=True) == "/Date(1506384247000+0000)/"
    assert odata_date.format_date(dt.datetime(2017, 9, 26, 0, 4, 7)) == "/Date(1506384247000)/"
    assert odata_date.format_date(-1000) == "/Date(-1000)/"


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("/Date(1506384247000)/", 1506384247000),
        ("/Date(1506384247000+0000)/", 1506384247000),
        ("/Date(1506384247000-0130)/", 1506384247000),
        ("/Date(-1000)/", -1000),
    ],
)
def test_parse_date(text: str, ms: int) -> None:
    assert odata_date.is_date(text)
    assert odata_date.parse_date(text) == ms


@pytest.mark.parametrize(
    "text", ["", "/Date()/", "/Date(12)", "Date(12)/", "/Date(12+00)/", "2017-09-26"]
)
def test_other_text_is_no_date(text: str) -> None:
    assert not odata_date.is_date(text)
    with pytest.raises(ValueError, match="not an OData date"):
        odata_date.parse_date(text)


def test_is_date_of_non_strings() -> None:
    assert not odata_date.is_date(None)
    assert not odata_date.is_date(1506384247000)


def test_ms_and_iso_round_trip() -> None:
    assert odata_date.to_ms(MOMENT) == 1506384247000
    assert odata_date.from_ms(1506384247000) == MOMENT
    assert odata_date.parse_iso("2017-09-26T00:04:07Z") == MOMENT
    assert odata_date.parse_iso("2017-09-26T02:04:07+02:00") == MOMENT
    assert odata_date.parse_iso("2017-09-26T00:04:07") == MOMENT
    with pytest.raises(ValueError):
        odata_date.parse_iso("yesterday")
