"""Tokenizer and parser: precedence, literals, paths, and errors that point at the column."""

from __future__ import annotations

from decimal import Decimal

import pytest

from isthmus.mapping import ExpressionSyntaxError
from isthmus.mapping.expressions import nodes
from isthmus.mapping.expressions.parser import parse


def test_multiplication_binds_tighter_than_addition() -> None:
    tree = parse("1 + 2 * 3")
    assert isinstance(tree, nodes.Binary)
    assert tree.op == "+"
    assert isinstance(tree.right, nodes.Binary)
    assert tree.right.op == "*"


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    tree = parse("not a or b and c")
    assert isinstance(tree, nodes.Binary)
    assert tree.op == "or"
    assert isinstance(tree.left, nodes.Unary)
    assert isinstance(tree.right, nodes.Binary)
    assert tree.right.op == "and"


def test_numbers_are_int_or_exact_decimal() -> None:
    assert parse("42") == nodes.Literal(0, 42)
    assert parse("0.1") == nodes.Literal(0, Decimal("0.1"))


def test_strings_take_either_quote_and_escapes() -> None:
    assert parse("'it\\'s'") == nodes.Literal(0, "it's")
    assert parse('"a\\nb"') == nodes.Literal(0, "a\nb")


def test_paths_each_and_index() -> None:
    tree = parse("lines[*].quantity")
    assert isinstance(tree, nodes.Field)
    assert isinstance(tree.base, nodes.Each)
    assert isinstance(parse("lines[0]"), nodes.Index)


def test_backticks_quote_field_names_with_odd_characters() -> None:
    tree = parse("`customerid_account@odata.bind`")
    assert tree == nodes.Field(0, None, "customerid_account@odata.bind")


def test_if_is_a_conditional_and_ternary_too() -> None:
    assert isinstance(parse("if(a, 1, 2)"), nodes.Conditional)
    assert isinstance(parse("a ? 1 : 2"), nodes.Conditional)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("a + * b", 4, "expected a value"),
        ("upper(name", 10, "expected ')'"),
        ("'open", 0, "string is not closed"),
        ("a # b", 2, "unexpected character"),
        ("if(a, b)", 0, "takes 3 arguments"),
        ("a b", 2, "expected end of expression"),
        ("x.", 2, "expected a field name"),
    ],
)
def test_errors_carry_the_column(text: str, column: int, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse(text)
    assert caught.value.column == column
    assert message in caught.value.reason


def test_error_message_draws_a_caret_under_the_position() -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        parse("total * * 2")
    lines = str(caught.value).splitlines()
    assert lines[1].strip() == "total * * 2"
    assert lines[2].index("^") - lines[1].index("t") == 8


@pytest.mark.parametrize(
    "text",
    ["(" * 200 + "1" + ")" * 200, "-" * 500 + "1", "not " * 300 + "true", "+".join(["1"] * 500)],
)
def test_too_deep_expressions_are_refused_not_a_stack_overflow(text: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match="nest"):
        parse(text)
