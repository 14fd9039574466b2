"""Dispatch on (topic, envelope event type) to the flows that handle a record."""

from __future__ import annotations

import copy

from isthmus.transformer.core.dispatch import FlowSet, event_type_of
from tests.unit.transformer.conftest import sample


def test_a_sales_order_create_goes_to_the_sales_order_flow_only(flow_set: FlowSet) -> None:
    chosen = flow_set.dispatch(
        topic="d365.salesorder.events", event=sample("d365-salesorder-created")
    )
    assert [flow.id for flow in chosen.flows] == ["d365-salesorder-to-s4"]
    assert chosen.event_type == "Create"


def test_the_same_event_on_another_topic_matches_nothing(flow_set: FlowSet) -> None:
    chosen = flow_set.dispatch(topic="s4.product.events", event=sample("d365-salesorder-created"))
    assert chosen.flows == ()


def test_an_event_type_no_flow_triggers_on_matches_nothing(flow_set: FlowSet) -> None:
    event = copy.deepcopy(sample("d365-salesorder-created"))
    event["envelope"]["message"] = "Delete"
    assert flow_set.dispatch(topic="d365.salesorder.events", event=event).flows == ()


def test_an_echo_of_the_integration_user_is_not_dispatched(flow_set: FlowSet) -> None:
    event = sample("d365-account-created")
    origin = event["envelope"]["originUser"]
    matched = flow_set.dispatch(topic="d365.account.events", event=event)
    echoed = flow_set.dispatch(topic="d365.account.events", event=event, ignore_origins=[origin])
    assert [f.id for f in matched.flows] == ["d365-account-to-s4-businesspartner"]
    assert echoed.flows == ()


def test_every_shipped_flow_has_its_source_topic_and_target_schema(flow_set: FlowSet) -> None:
    assert len(flow_set.source_topics) == 9
    assert flow_set.target_topics["s4.salesorder.commands"] == "io.isthmus.s4.SalesOrderCommand"
    assert flow_set.versions()["d365-salesorder-to-s4"] >= 1


def test_event_type_is_the_envelope_message() -> None:
    assert event_type_of({"envelope": {"message": "Update"}}) == "Update"
    assert event_type_of({"data": {}}) == ""
