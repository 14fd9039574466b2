"""Expression semantics: paths, exact arithmetic, nulls, comparisons, filters and safety."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from isthmus.mapping import EvaluationError, FlowDefinitionError
from isthmus.mapping.expressions.compiler import Environment, compile_expression

Evaluate = Callable[..., Any]

ORDER = {
    "customer": {"accountnumber": "A-1000", "name": "Contoso"},
    "lines": [
        {"quantity": 2, "price": 0.1, "uom": "Piece"},
        {"quantity": 3, "price": 0.2, "uom": "Each"},
    ],
    "name": "Web order",
    "total": 12500.5,
}


def test_dotted_paths_read_nested_objects(evaluate: Evaluate) -> None:
    assert evaluate("customer.accountnumber", ORDER) == "A-1000"
    assert evaluate("$.customer.name", ORDER) == "Contoso"


def test_missing_paths_are_null_not_errors(evaluate: Evaluate) -> None:
    assert evaluate("customer.missing.deeper", ORDER) is None
    assert evaluate("name.length", ORDER) is None


def test_paths_over_lists_collect_every_element(evaluate: Evaluate) -> None:
    assert evaluate("lines[*].quantity", ORDER) == [2, 3]
    assert evaluate("lines.uom", ORDER) == ["Piece", "Each"]
    assert evaluate("lines[-1].uom", ORDER) == "Each"
    assert evaluate("lines[5]", ORDER) is None


def test_arithmetic_is_exact_decimal(evaluate: Evaluate) -> None:
    assert evaluate("0.1 + 0.2") == Decimal("0.3")
    assert evaluate("lines[0].price + lines[1].price", ORDER) == Decimal("0.3")
    assert evaluate("sum(lines.price)", ORDER) == Decimal("0.3")
    assert evaluate("10 / 4") == Decimal("2.5")
    assert evaluate("7 % 3") == Decimal(1)


def test_arithmetic_with_null_is_null(evaluate: Evaluate) -> None:
    assert evaluate("missing * 2", ORDER) is None
    assert evaluate("-missing", ORDER) is None


def test_division_by_zero_is_an_evaluation_error(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="division by zero"):
        evaluate("total / 0", ORDER)


def test_strings_are_not_silently_numbers(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="use to_decimal"):
        evaluate("'12' + 1")
    assert evaluate("to_decimal('12') + 1") == Decimal(13)


def test_concatenation_treats_null_as_empty(evaluate: Evaluate) -> None:
    assert evaluate("name & ' / ' & missing & customer.name", ORDER) == "Web order / Contoso"


def test_comparisons(evaluate: Evaluate) -> None:
    assert evaluate("total > 10000", ORDER) is True
    assert evaluate("total = 12500.50", ORDER) is True
    assert evaluate("name != 'x'", ORDER) is True
    assert evaluate("missing > 1", ORDER) is False
    assert evaluate("'OR' in ['OR', 'ZOR']") is True


def test_comparing_unlike_kinds_is_an_error(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="cannot compare"):
        evaluate("name > 3", ORDER)


def test_conditions_must_be_boolean(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="needs true or false"):
        evaluate("if(name, 1, 2)", ORDER)
    assert evaluate("if(missing, 1, 2)", ORDER) == 2


def test_only_the_chosen_branch_is_evaluated(evaluate: Evaluate) -> None:
    assert evaluate("if(total > 1, 'big', total / 0)", ORDER) == "big"
    assert evaluate("total > 1 ? 'big' : total / 0", ORDER) == "big"
    assert evaluate("total < 1 and total / 0 > 1", ORDER) is False


def test_coalesce_stops_at_the_first_value(evaluate: Evaluate) -> None:
    assert evaluate("coalesce(missing, name, total / 0)", ORDER) == "Web order"


def test_filter_predicates_select_elements(evaluate: Evaluate) -> None:
    assert evaluate("lines[quantity > 2].uom", ORDER) == ["Each"]
    assert evaluate("count(lines[uom = 'Piece'])", ORDER) == 1
    assert evaluate("lines[not (quantity > 2)].uom", ORDER) == ["Piece"]


def test_variables(evaluate: Evaluate) -> None:
    assert evaluate("$$.name", ORDER) == "Web order"
    assert evaluate("$index", ORDER) == 0


def test_python_internals_are_unreachable(evaluate: Evaluate) -> None:
    assert evaluate("name.__class__", ORDER) is None
    assert evaluate("customer.__dict__", ORDER) is None
    assert evaluate("`__class__`", ORDER) is None
    env = Environment(tables={})
    for text in ("__import__('os')", "eval('1')", "getattr(name, 'x')", "open('/etc/passwd')"):
        with pytest.raises(FlowDefinitionError, match="unknown function"):
            compile_expression(text, env=env)


def test_unknown_variable_and_wrong_arity_fail_at_compile_time() -> None:
    env = Environment(tables={}, source="flows/x.yaml", field="mapping.A")
    with pytest.raises(FlowDefinitionError, match=r"unknown variable \$foo"):
        compile_expression("$foo", env=env)
    with pytest.raises(FlowDefinitionError, match="takes 1 argument") as caught:
        compile_expression("upper(a, b)", env=env)
    assert str(caught.value).startswith("flows/x.yaml: mapping.A:")


def test_deeply_nested_data_does_not_exhaust_the_stack(evaluate: Evaluate) -> None:
    deep: list[object] = [{"a": 1}]
    for _ in range(5000):
        deep = [deep]
    assert evaluate("x.a", {"x": deep}) == [1]


def test_padding_width_is_bounded(evaluate: Evaluate) -> None:
    with pytest.raises(EvaluationError, match="pad width"):
        evaluate("pad_left('1', 1000000000, '0')")
