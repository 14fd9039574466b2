"""Projected reader schemas: only the fields read are decoded, names and resolution kept."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import fastavro

from isthmus.schemas.projection import project, read_tree

LINE = {
    "type": "record",
    "name": "Line",
    "fields": [
        {
            "name": "qty",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3},
        },
        {"name": "product", "type": "string"},
        {"name": "note", "type": ["null", "string"], "default": None},
    ],
}
EVENT = {
    "type": "record",
    "name": "Event",
    "namespace": "io.example",
    "fields": [
        {"name": "id", "type": "string"},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
        },
        {"name": "lines", "type": {"type": "array", "items": LINE}},
        {"name": "extra", "type": ["null", {"type": "map", "values": "string"}], "default": None},
    ],
}
VALUE: dict[str, Any] = {
    "id": "A-1",
    "amount": Decimal("12.50"),
    "lines": [{"qty": Decimal("2.000"), "product": "TG11", "note": "x"}],
    "extra": {"k": "v"},
}


def decode(reader: Any) -> Any:
    writer = fastavro.parse_schema(EVENT, named_schemas={})
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, writer, VALUE)
    parsed = fastavro.parse_schema(reader, named_schemas={})
    return fastavro.schemaless_reader(io.BytesIO(buffer.getvalue()), writer, parsed)


def test_a_reader_keeps_only_the_paths_read_and_skips_the_rest() -> None:
    assert decode(project(EVENT, ["id", "lines.product"])) == {
        "id": "A-1",
        "lines": [{"product": "TG11"}],
    }


def test_a_path_ending_at_a_record_or_list_keeps_all_of_it() -> None:
    assert decode(project(EVENT, ["lines", "lines.product", "extra"])) == {
        "lines": VALUE["lines"],
        "extra": {"k": "v"},
    }


def test_a_shorter_path_wins_over_a_longer_one() -> None:
    assert read_tree(["a.b.c", "a.b", "d"]) == {"a": {"b": {}}, "d": {}}


def test_a_record_used_again_by_name_is_kept_whole() -> None:
    schema = {
        **EVENT,
        "fields": [*EVENT["fields"], {"name": "first", "type": ["null", "Line"], "default": None}],
    }
    reader = project(schema, ["lines.product"])
    assert reader["fields"][0]["type"]["items"] == LINE
