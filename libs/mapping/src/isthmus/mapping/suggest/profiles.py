"""Value profiles: what sample values look like (dates, currency codes, units, numbers, ids)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from isthmus.mapping.suggest.naming import words_of
from isthmus.schemas.odata_date import is_odata_date

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s()/-]{6,}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
CURRENCIES = words_of(
    "USD EUR GBP CHF JPY CAD AUD CNY INR SEK NOK DKK PLN CZK HUF BRL MXN ZAR SGD HKD NZD KRW"
)
UNITS = words_of(
    "EA PC ST KG G L ML M CM MM H MIN PAA CS BOX CAR PAL TO LB OZ "
    "each piece kilogram gram liter litre meter metre hour pair box"
)
COUNTRIES = words_of("US DE GB FR NL CH AT CA JP IN AU SE IT ES BE DK NO PL CN BR MX")


def classify(value: Any) -> str:
    """The kind of one sample value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, dt.datetime):
        return "datetime"
    if isinstance(value, dt.date):
        return "date"
    if not isinstance(value, str) or not value.strip():
        return "empty"
    return _classify_text(value.strip())


def _classify_text(text: str) -> str:  # noqa: PLR0911 - one answer per kind of text
    if _ISO_DATE.match(text) or is_odata_date(text):
        return "date"
    if _ISO_DATETIME.match(text):
        return "datetime"
    if text.upper() in CURRENCIES and len(text) == 3:  # noqa: PLR2004 - ISO 4217 codes
        return "currency"
    if text in UNITS or text.lower() in UNITS:
        return "unit"
    if text in COUNTRIES:
        return "country"
    if _GUID.match(text):
        return "guid"
    if _EMAIL.match(text):
        return "email"
    if _NUMBER.match(text):
        return "number"
    if _PHONE.match(text):
        return "phone"
    return "text"


def profile(values: Iterable[Any]) -> tuple[str, list[Any]] | None:
    """The most common kind among non-empty samples, with up to three examples; None if none."""
    kinds: Counter[str] = Counter()
    examples: list[Any] = []
    for value in values:
        kind = classify(value)
        if kind == "empty":
            continue
        kinds[kind] += 1
        if len(examples) < 3 and value not in examples:  # noqa: PLR2004 - a few examples
            examples.append(value)
    if not kinds:
        return None
    return kinds.most_common(1)[0][0], examples


# What a target concept expects its values to look like.
EXPECTED = {
    "currency": "currency",
    "unit": "unit",
    "date": "date",
    "country": "country",
    "quantity": "number",
    "amount": "number",
    "price": "number",
    "email": "email",
    "phone": "phone",
}
