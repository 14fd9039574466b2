"""The function library: strings, conversions, dates and time zones, numbers and lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from isthmus.mapping import ConversionError, EvaluationError

Evaluate = Callable[..., Any]
UTC = dt.UTC


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("concat('a', 1, null, true)", "a1true"),
        ("upper(' ab ')", " AB "),
        ("lower('AB')", "ab"),
        ("trim('  ab  ')", "ab"),
        ("substring('abcdef', 1, 3)", "bcd"),
        ("substring('abcdef', 4)", "ef"),
        ("split('a,b,,c', ',')", ["a", "b", "", "c"]),
        ("join(['a', null, '', 'b'], '-')", "a-b"),
        ("pad_left('4711', 10, '0')", "0000004711"),
        ("pad_right('A', 3, '.')", "A.."),
        ("strip_zeros('0005200000')", "5200000"),
        ("replace('a b c', ' ', '')", "abc"),
        ("length('abc')", 3),
        ("upper(null)", None),
        ("first_name('Anna Maria Schmidt')", "Anna Maria"),
        ("last_name('Anna Maria Schmidt')", "Schmidt"),
        ("first_name('Cher')", None),
        ("street_name('Dietmar-Hopp-Allee 16')", "Dietmar-Hopp-Allee"),
        ("house_number('Dietmar-Hopp-Allee 16')", "16"),
        ("street_name('1 Microsoft Way')", "Microsoft Way"),
        ("house_number('1 Microsoft Way')", "1"),
        ("house_number('Hauptstrasse 5a')", "5a"),
        ("house_number('Main Street')", None),
        ("line('Contoso\\nOne Way 1\\r\\nRedmond', 2)", "One Way 1"),
        ("line('Contoso', 3)", None),
        (
            "wrap_line('Sample Account International Trading and Distribution', 40, 1)",
            "Sample Account International Trading and",
        ),
        (
            "wrap_line('Sample Account International Trading and Distribution', 40, 2)",
            "Distribution",
        ),
        ("wrap_line('Short', 40, 2)", None),
    ],
)
def test_string_functions(evaluate: Evaluate, expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("to_string(12.50)", "12.50"),
        ("to_string(to_decimal('1E+1'))", "10"),
        ("to_string(true)", "true"),
        ("to_int('42')", 42),
        ("to_int(' 7 ')", 7),
        ("to_int(12.0)", 12),
        ("to_decimal('12.3456', 2)", Decimal("12.35")),
        ("to_decimal('2.5', 0)", Decimal(3)),
        ("to_decimal(1, 3)", Decimal("1.000")),
        ("to_bool('X')", True),
        ("to_bool('')", False),
        ("to_bool('yes')", True),
        ("to_bool(0)", False),
        ("to_date('2024-01-31')", dt.date(2024, 1, 31)),
        ("to_date('20240131')", dt.date(2024, 1, 31)),
        ("to_date('/Date(1588291200000)/')", dt.date(2020, 5, 1)),
        ("to_date('2024-01-31T23:30:00-02:00')", dt.date(2024, 2, 1)),
        ("to_datetime('2016-09-28T22:57:53Z')", dt.datetime(2016, 9, 28, 22, 57, 53, tzinfo=UTC)),
        (
            "to_datetime('/Date(1583073519000+0000)/')",
            dt.datetime(2020, 3, 1, 14, 38, 39, tzinfo=UTC),
        ),
        ("to_datetime('2024-01-31T10:00:00')", dt.datetime(2024, 1, 31, 10, tzinfo=UTC)),
    ],
)
def test_conversions(evaluate: Evaluate, expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


@pytest.mark.parametrize(
    ("expression", "value", "target"),
    [
        ("to_int('12a')", "12a", "int"),
        ("to_int('1.5')", "1.5", "int"),
        ("to_decimal('ten')", "ten", "decimal"),
        ("to_decimal('NaN')", "NaN", "decimal"),
        ("to_bool('maybe')", "maybe", "boolean"),
        ("to_date('31.01.2024')", "31.01.2024", "date"),
        ("to_date('2024-02-30')", "2024-02-30", "date"),
        ("to_datetime('yesterday')", "yesterday", "datetime"),
    ],
)
def test_bad_values_fail_naming_the_value(
    evaluate: Evaluate, expression: str, value: str, target: str
) -> None:
    with pytest.raises(ConversionError) as caught:
        evaluate(expression)
    assert caught.value.value == value
    assert caught.value.target_type == target
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("odata_date('2020-05-01')", "/Date(1588291200000)/"),
        ("odata_date('2020-05-01T23:59:59Z')", "/Date(1588291200000)/"),
        ("odata_datetime('2020-03-01T14:38:39Z')", "/Date(1583073519000+0000)/"),
        ("iso_datetime('/Date(1583073519000+0000)/')", "2020-03-01T14:38:39Z"),
        ("iso_datetime('/Date(1583073519123)/')", "2020-03-01T14:38:39.123Z"),
        ("iso_date('/Date(1588291200000)/')", "2020-05-01"),
        ("sap_date('2024-01-31')", "20240131"),
        ("iso_datetime('2024-06-12T16:13:25+02:00')", "2024-06-12T14:13:25Z"),
        ("local_date('2024-12-31T23:30:00Z', 'Europe/Berlin')", dt.date(2025, 1, 1)),
        ("local_date('2025-01-01T02:20:00Z', 'America/Los_Angeles')", dt.date(2024, 12, 31)),
        (
            "format_datetime(in_timezone('2024-07-01T10:00:00Z', 'Europe/Berlin'), '%H:%M %Z')",
            "12:00 CEST",
        ),
        ("format_datetime(to_date('2024-01-31'), '%d.%m.%Y')", "31.01.2024"),
        ("add_days(to_date('2024-02-27'), 3)", dt.date(2024, 3, 1)),
    ],
)
def test_dates_and_time_zones(evaluate: Evaluate, expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


def test_unknown_time_zone(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="unknown time zone 'Mars/Olympus'"):
        evaluate("in_timezone('2024-01-01T00:00:00Z', 'Mars/Olympus')")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("round(2.345, 2)", Decimal("2.35")),
        ("round(-2.345, 2)", Decimal("-2.35")),
        ("round(2.5)", Decimal(3)),
        ("floor(2.7)", Decimal(2)),
        ("ceil(2.1)", Decimal(3)),
        ("abs(-4)", Decimal(4)),
        ("tax_amount(100, 19)", Decimal("19.00")),
        ("tax_amount(19.99, 7)", Decimal("1.40")),
        ("gross_amount(19.99, 7)", Decimal("21.39")),
        ("net_amount(119, 19)", Decimal("100.00")),
        ("net_amount(10, 7, 4)", Decimal("9.3458")),
        ("item_number(0)", 10),
        ("item_number(2)", 30),
        ("item_number(1, 100)", 200),
        ("sum([1.1, 2.2, null])", Decimal("3.3")),
        ("sum([])", Decimal(0)),
        ("count([1, null, 3])", 2),
        ("min([3, 1.5, 2])", Decimal("1.5")),
        ("max(3, 7, 5)", Decimal(7)),
        ("max(['b', 'a'])", "b"),
        ("min([])", None),
        ("average([1, 2])", Decimal("1.5")),
        ("distinct(['a', 'b', 'a'])", ["a", "b"]),
        ("first([])", None),
        ("exists(null)", False),
    ],
)
def test_numbers_and_lists(evaluate: Evaluate, expression: str, expected: Any) -> None:
    assert evaluate(expression) == expected


def test_required_fails_with_its_message(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="no customer on the order"):
        evaluate("required(customer, 'no customer on the order')", {})
