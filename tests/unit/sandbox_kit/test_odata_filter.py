"""The shared ``$filter`` parser in its V4 (Dataverse) and V2 (SAP Gateway) dialects."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isthmus.sandbox_kit.odata_filter import (
    V2,
    V4,
    Call,
    Compare,
    Dialect,
    FilterSyntaxError,
    Literal,
    Logical,
    Not,
    Prop,
    Token,
    apply_function,
    compare,
    parse,
    tokenize,
)

pytestmark = pytest.mark.unit
GUID = "6d81597f-0f9f-e711-8122-000d3aa2331c"


def _compare(expression: str, dialect: Dialect = V4) -> Compare:
    node = parse(expression, dialect=dialect)
    assert isinstance(node, Compare)
    return node


def test_v4_parses_precedence_into_an_ast() -> None:
    node = parse("not statecode eq 1 or name eq 'x' and creditlimit gt 5", dialect=V4)
    assert node == Logical(
        "or",
        Not(Compare("eq", Prop(("statecode",)), Literal(1, "number"))),
        Logical(
            "and",
            Compare("eq", Prop(("name",)), Literal("x", "string")),
            Compare("gt", Prop(("creditlimit",)), Literal(5, "number")),
        ),
    )


def test_v4_parses_functions_guids_dates_and_paths() -> None:
    assert parse("contains(name,'a')", dialect=V4) == Call(
        "contains", (Prop(("name",)), Literal("a", "string"))
    )
    assert _compare(f"_primarycontactid_value eq {GUID.upper()}").right == Literal(GUID, "guid")
    when = _compare("createdon ge 2024-01-31T00:00:00Z").right
    assert when == Literal("2024-01-31T00:00:00Z", "datetime")
    assert _compare("createdon lt 2024-01-01").right == Literal("2024-01-01", "date")
    assert _compare("primarycontactid/fullname eq 'x'").left == Prop(
        ("primarycontactid", "fullname")
    )


def test_v4_parses_query_functions_with_named_parameters_and_lists() -> None:
    node = parse(
        'Microsoft.Dynamics.CRM.In(PropertyName=\'name\',PropertyValues=["Fabrikam","x"])',
        dialect=V4,
    )
    assert node == Call(
        "Microsoft.Dynamics.CRM.In",
        (),
        (
            ("PropertyName", Literal("name", "string")),
            ("PropertyValues", Literal(["Fabrikam", "x"], "list")),
        ),
    )


def test_v2_parser_builds_an_ast_with_precedence() -> None:
    node = parse("not (A eq 'x') or B gt 1 and C le 2.5M", dialect=V2)
    assert node == Logical(
        "or",
        Not(Compare("eq", Prop(("A",)), Literal("x", "string"))),
        Logical(
            "and",
            Compare("gt", Prop(("B",)), Literal(1, "number")),
            Compare("le", Prop(("C",)), Literal(Decimal("2.5"), "number")),
        ),
    )


def test_v2_typed_literals() -> None:
    assert parse("D eq datetime'2025-01-01T00:00:00'", dialect=V2) == Compare(
        "eq", Prop(("D",)), Literal(1735689600000, "datetime")
    )
    assert parse("D eq datetimeoffset'2025-01-01T01:00:00+01:00'", dialect=V2) == Compare(
        "eq", Prop(("D",)), Literal(1735689600000, "datetimeoffset")
    )
    guid = parse("G eq guid'ABCDEF01-0000-0000-0000-000000000000'", dialect=V2)
    assert guid == Compare(
        "eq", Prop(("G",)), Literal("abcdef01-0000-0000-0000-000000000000", "guid")
    )
    assert parse("T eq time'PT12H30M00S'", dialect=V2) == Compare(
        "eq", Prop(("T",)), Literal("PT12H30M00S", "time")
    )
    assert parse("substringof('a''b',N)", dialect=V2) == Call(
        "substringof", (Literal("a'b", "string"), Prop(("N",)))
    )


@pytest.mark.parametrize(
    ("text", "dialect", "expected"),
    [
        ("1.5", V4, Literal(1.5, "number")),
        ("1e3", V4, Literal(1000.0, "number")),
        ("7L", V4, Literal(7, "number")),
        ("1.5", V2, Literal(Decimal("1.5"), "number")),
        ("1e3", V2, Literal(Decimal("1e3"), "number")),
        ("7L", V2, Literal(Decimal(7), "number")),
        ("7", V2, Literal(7, "number")),
        ('"say \\"hi\\""', V4, Literal('say "hi"', "string")),
        ("true", V2, Literal(True, "bool")),
        ("null", V4, Literal(None, "null")),
    ],
)
def test_numbers_and_keywords_by_dialect(text: str, dialect: Dialect, expected: Literal) -> None:
    assert parse(text, dialect=dialect) == expected


def test_v2_names_carry_their_path_steps() -> None:
    node = _compare("to_Item/Material eq 'TG11'", V2)
    assert node.left == Prop(("to_Item", "Material"))
    assert isinstance(node.left, Prop)
    assert node.left.name == "to_Item/Material"


def test_dialects_differ_in_the_literals_they_know() -> None:
    v4_guid = _compare(f"G eq {GUID}").right
    assert v4_guid == Literal(GUID, "guid")
    with pytest.raises(FilterSyntaxError):
        parse(f"G eq {GUID}", dialect=V2)
    with pytest.raises(FilterSyntaxError):
        parse("D eq datetime'2025-01-01T00:00:00'", dialect=V4)
    with pytest.raises(FilterSyntaxError):
        parse('N eq "x"', dialect=V2)


def test_dialects_differ_in_the_functions_they_accept() -> None:
    assert parse("anything(a)", dialect=V4) == Call("anything", (Prop(("a",)),))
    assert parse("contains(a 'x')", dialect=V4) == Call(
        "contains", (Prop(("a",)), Literal("x", "string"))
    )
    with pytest.raises(FilterSyntaxError, match=r"^Function 'anything' is not supported$"):
        parse("anything(a)", dialect=V2)
    with pytest.raises(FilterSyntaxError, match=r"^Function 'contains' is not supported$"):
        parse("contains(a,'x')", dialect=V2)
    with pytest.raises(FilterSyntaxError):
        parse("length()", dialect=V2)
    assert parse("length(a)", dialect=V2) == Call("length", (Prop(("a",)),))


@pytest.mark.parametrize(
    ("dialect", "expression", "message"),
    [
        (V4, "name eq", "Syntax error in 'name eq'."),
        (V4, "name eq 'x", "Syntax error at position 7 in 'name eq 'x'."),
        (V4, "(name eq 'x'", "Syntax error in '(name eq 'x''."),
        (V4, "name eq 'a' extra", "Syntax error in 'name eq 'a' extra'."),
        (V4, "name $ 'a'", "Syntax error at position 4 in 'name $ 'a''."),
        (V4, "name $ 'a'  ", "Syntax error at position 4 in 'name $ 'a''."),
        (V4, "name eq )", "Syntax error: unexpected ')' in the $filter expression."),
        (V4, "((((", "Syntax error in '(((('."),
        (V2, "SoldToParty eq", "Invalid filter expression: expected 'term'"),
        (V2, "SoldToParty eq 'x' and", "Invalid filter expression: expected 'term'"),
        (V2, "(SalesOrder eq '1'", "Invalid filter expression: expected ')'"),
        (V2, "foo(SalesOrder)", "Function 'foo' is not supported"),
        (V2, "SalesOrder eq 'x' 'y'", "Invalid filter expression near ''y''"),
        (V2, "SalesOrder # 1", "Invalid filter expression near ' # 1'"),
        (V2, "SalesOrder # 1  ", "Invalid filter expression near ' # 1  '"),
        (V2, "SalesOrder eq ,", "Invalid filter expression near ','"),
        (V2, "D eq datetime'never'", "Invalid datetime literal 'never'"),
    ],
)
def test_rejects_invalid_filters_with_the_servers_messages(
    dialect: Dialect, expression: str, message: str
) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        parse(expression, dialect=dialect)
    assert caught.value.message == message
    assert str(caught.value) == message


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40))
def test_any_string_literal_round_trips(value: str) -> None:
    quoted = "'" + value.replace("'", "''") + "'"
    for dialect in (V4, V2):
        assert _compare(f"name eq {quoted}", dialect).right == Literal(value, "string")


def test_tokenize_names_token_kinds_per_dialect() -> None:
    assert tokenize("guid'AB' ", dialect=V2) == [Token("typed", "guid'AB'")]
    assert tokenize("a/b", dialect=V4) == [
        Token("name", "a"),
        Token("punct", "/"),
        Token("name", "b"),
    ]
    assert tokenize("a/b", dialect=V2) == [Token("name", "a/b")]
    assert tokenize("   ", dialect=V4) == []


def test_text_case_counts_only_in_v2() -> None:
    assert V4.normalise("ConToso") == "contoso"
    assert V2.normalise("ConToso") == "ConToso"
    assert V4.normalise(5) == 5


@pytest.mark.parametrize(
    ("op", "left", "right", "expected"),
    [
        ("eq", None, None, True),
        ("ne", 1, None, True),
        ("gt", None, 1, False),
        ("le", 1, None, False),
        ("ge", 2, 2, True),
        ("lt", Decimal("1.5"), 2, True),
    ],
)
def test_compare_treats_null_as_a_value_only_for_equality(
    op: str, left: object, right: object, expected: bool
) -> None:
    assert compare(op, left, right) is expected


def test_compare_raises_on_values_without_an_order() -> None:
    with pytest.raises(TypeError):
        compare("gt", "a", 1)


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("contains", ["contoso", "tos"], True),
        ("substringof", ["tos", "contoso"], True),
        ("substringof", ["contoso", "tos"], False),
        ("startswith", ["contoso", "con"], True),
        ("endswith", ["contoso", "con"], False),
        ("tolower", ["WEB"], "web"),
        ("toupper", ["web"], "WEB"),
        ("length", ["web"], 3),
    ],
)
def test_text_functions(name: str, args: list[str], expected: object) -> None:
    assert apply_function(name, args) == expected


def test_every_dialect_function_has_an_implementation() -> None:
    for dialect in (V4, V2):
        for name, arity in dialect.functions.items():
            assert apply_function(name, ["x"] * arity) is not None
