"""A field that fails to map is reported and left out; the fields after it still map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isthmus.mapping import Flow, InMemoryLookups

MakeFlow = Callable[..., Flow]

ITEM_FIELDS = {"First": "a", "Second": "to_int(b)", "Third": "upper(c)", "Fourth": "to_int(d)"}


def violations(flow: Flow, record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v.field, v.rule) for v in flow.apply(record, InMemoryLookups()).violations]


def test_failures_in_an_object_of_plain_fields_are_each_reported(make_flow: MakeFlow) -> None:
    flow = make_flow(
        {"to_Item": {"each": "lines", "fields": ITEM_FIELDS}},
        validation={"to_Item[*].Third": {"max_length": 1}, "to_Item[*].First": {"required": True}},
    )
    lines = [
        {"a": "x", "b": "1", "c": "ok", "d": "2"},
        {"a": None, "b": "no", "c": "y", "d": "nope"},
        {"a": "z", "b": "3", "c": "long", "d": "4"},
    ]
    assert violations(flow, {"lines": lines}) == [
        ("to_Item[1].Second", "conversion"),
        ("to_Item[1].Fourth", "conversion"),
        ("to_Item[0].Third", "max_length"),
        ("to_Item[2].Third", "max_length"),
        ("to_Item[1].First", "required"),
    ]


def test_a_valid_object_of_plain_fields_keeps_the_declared_order(make_flow: MakeFlow) -> None:
    flow = make_flow({"to_Item": {"each": "lines", "fields": ITEM_FIELDS}})
    result = flow.apply({"lines": [{"a": "x", "b": "1", "c": "y", "d": "2"}]}, InMemoryLookups())
    assert result.unwrap()["to_Item"] == [{"First": "x", "Second": 1, "Third": "Y", "Fourth": 2}]
    assert list(result.unwrap()["to_Item"][0]) == ["First", "Second", "Third", "Fourth"]
