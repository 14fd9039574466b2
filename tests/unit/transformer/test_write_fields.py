"""Master-data commands carry the target fields a change writes (header.writeFields)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from isthmus.kafka.audit import AUDIT_TOPIC
from isthmus.kafka.routing import Routes
from isthmus.mapping import Flow, load_flows
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.core.handler import TransformHandler
from isthmus.transformer.core.writes import with_write_fields, write_fields
from tests.unit.transformer.conftest import XREF, record

FLOWS = Path(__file__).resolve().parents[3] / "flows"


@pytest.fixture(scope="module")
def flows() -> dict[str, Flow]:
    return load_flows(FLOWS)


def _event(name: str, **envelope: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((FLOWS / "samples" / f"{name}.json").read_text())
    event["envelope"].update(envelope)
    return event


def test_a_d365_phone_change_writes_only_the_s4_phone(flows: dict[str, Flow]) -> None:
    flow = flows["d365-account-to-s4-businesspartner"]
    event = _event(
        "d365-account-created", operation="UPDATED", changedFields=["telephone1", "modifiedon"]
    )
    assert write_fields(flow=flow, event=event) == ["to_BusinessPartnerAddress.PhoneNumber"]


def test_a_create_or_an_unknown_change_writes_everything(flows: dict[str, Flow]) -> None:
    flow = flows["d365-account-to-s4-businesspartner"]
    created = _event("d365-account-created", operation="CREATED", changedFields=["name"])
    unknown = _event("d365-account-created", operation="UPDATED", changedFields=[])
    assert write_fields(flow=flow, event=created) is None
    assert write_fields(flow=flow, event=unknown) is None


def test_a_change_of_target_owned_fields_only_writes_nothing(flows: dict[str, Flow]) -> None:
    flow = flows["s4-businesspartner-to-d365-account"]
    event = _event(
        "s4-businesspartner-changed",
        operation="UPDATED",
        changedFields=["to_BusinessPartnerAddress[0].PhoneNumber", "LastChangeDate"],
    )
    assert write_fields(flow=flow, event=event) == []


def test_flows_without_ownership_write_everything(flows: dict[str, Flow]) -> None:
    flow = flows["d365-salesorder-to-s4"]
    event = _event("d365-salesorder-created", operation="UPDATED", changedFields=["name"])
    assert write_fields(flow=flow, event=event) is None


def test_the_list_goes_into_the_command_header() -> None:
    target = {"header": {"idempotency": {"sourceId": "1"}}, "name": "Contoso"}
    stamped = with_write_fields(target, ["name"])
    assert stamped["header"] == {"idempotency": {"sourceId": "1"}, "writeFields": ["name"]}
    assert with_write_fields(target, None) == target


def _handler(flow_set: FlowSet) -> TransformHandler:
    routes = Routes.from_delays(group="transformer", delays_ms=[10_000])
    return TransformHandler(flows=lambda: flow_set, lookups=XREF, routes=routes)


def test_a_d365_phone_change_issues_a_command_listing_the_phone(flow_set: FlowSet) -> None:
    event = _event(
        "d365-account-created", operation="UPDATED", message="Update", changedFields=["telephone1"]
    )
    outputs = _handler(flow_set)(record(event, topic="d365.account.events"))
    assert [o.topic for o in outputs] == ["s4.businesspartner.commands", AUDIT_TOPIC]
    assert outputs[0].value["header"]["writeFields"] == ["to_BusinessPartnerAddress.PhoneNumber"]


def test_a_change_of_only_d365_owned_fields_in_s4_is_skipped(flow_set: FlowSet) -> None:
    event = _event(
        "s4-businesspartner-changed",
        operation="UPDATED",
        changedFields=["to_BusinessPartnerAddress[0].PhoneNumber", "LastChangeTime"],
    )
    outputs = _handler(flow_set)(record(event, topic="s4.businesspartner.events"))
    assert [o.topic for o in outputs] == [AUDIT_TOPIC]
    assert outputs[0].value["outcome"] == "SKIPPED"
    assert outputs[0].value["flow"].startswith("s4-businesspartner-to-d365-account@")
