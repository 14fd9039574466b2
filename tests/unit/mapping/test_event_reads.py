"""Which event paths a flow document reads: what a projected reader schema must keep."""

from __future__ import annotations

from typing import Any

from isthmus.mapping.dependencies import event_reads


def paths(document: dict[str, Any]) -> set[str] | None:
    reads = event_reads(document)
    return None if reads is None else set(reads)


def document(mapping: dict[str, Any], **parts: Any) -> dict[str, Any]:
    return {
        "context": "data",
        "trigger": {"topic": "t", "event_types": ["Create"], **parts.pop("trigger", {})},
        "target": {"topic": "c", "command_type": "C", **parts.pop("target", {})},
        "mapping": mapping,
        **parts,
    }


def test_paths_are_from_the_event_root_through_the_context() -> None:
    reads = paths(
        document(
            {"Name": "upper(name)", "Id": "$$.envelope.eventId"},
            trigger={"condition": "statecode = 0"},
            target={"key": "accountid"},
            loop_prevention={"origin": "$$.envelope.originUser"},
        )
    )
    assert reads == {
        "data.name",
        "envelope.eventId",
        "data.statecode",
        "data.accountid",
        "envelope.originUser",
    }


def test_an_iterated_or_counted_list_keeps_only_the_fields_read_from_its_items() -> None:
    mapping = {
        "Items": {"each": "lines[qty > 0]", "fields": {"Material": "product"}},
        "Count": "count(lines)",
    }
    assert paths(document(mapping)) == {"data.lines.qty", "data.lines.product"}


def test_a_list_read_as_a_value_is_kept_whole() -> None:
    mapping = {"First": "first(lines).product", "Items": {"each": "lines", "fields": {"Q": "qty"}}}
    assert "data.lines" in (event_reads(document(mapping)) or set())


def test_a_counted_list_nothing_else_reads_is_kept_as_the_list() -> None:
    assert paths(document({"Count": "count(lines)"})) == {"data.lines"}


def test_checks_add_what_they_read_from_the_event_not_from_the_target() -> None:
    checks = [{"field": "A", "rule": "A = $$.data.code and exists(B)", "message": "m"}]
    assert paths(document({"A": "a"}, checks=checks)) == {"data.a", "data.code"}


def test_reading_the_whole_context_keeps_it_whole() -> None:
    assert paths(document({"All": "to_string($)"})) == {"data"}


def test_reading_the_whole_event_or_a_computed_context_reads_everything() -> None:
    assert paths(document({"Raw": "to_string($$)"})) is None
    assert paths({**document({"A": "a"}), "context": "first(items)"}) is None
