"""The handler's outcomes: command + audit, skip + audit, DLQ + audit, prerequisite retry."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from isthmus.kafka import headers as h
from isthmus.kafka.audit import AUDIT_TOPIC
from isthmus.kafka.routing import Routes
from isthmus.mapping import InMemoryLookups
from isthmus.transformer.adapters.xref import CrossReferences
from isthmus.transformer.core.commands import VIOLATIONS_HEADER
from isthmus.transformer.core.dispatch import FlowSet
from isthmus.transformer.core.events import SourceEvent
from isthmus.transformer.core.handler import TransformHandler
from isthmus.transformer.errors import PrerequisiteMissingError
from tests.unit.transformer.conftest import XREF, record, sample

ROUTES = Routes.from_delays(group="transformer", delays_ms=[10_000, 60_000])


def _handler(flow_set: FlowSet, lookups: Any = XREF) -> TransformHandler:
    return TransformHandler(flows=lambda: flow_set, lookups=lookups, routes=ROUTES)


def _broken_order() -> dict[str, Any]:
    event = copy.deepcopy(sample("d365-salesorder-created"))
    event["data"].update(isocurrencycode="zzz", ordernumber=None)
    event["data"]["order_details"][0]["quantity"] = 0
    return event


def test_a_good_order_yields_its_command_and_a_succeeded_audit(flow_set: FlowSet) -> None:
    outputs = _handler(flow_set)(record(sample("d365-salesorder-created")))
    assert [o.topic for o in outputs] == ["s4.salesorder.commands", AUDIT_TOPIC]
    audit = outputs[1].value
    assert audit["outcome"] == "SUCCEEDED"
    assert audit["flow"].startswith("d365-salesorder-to-s4@")
    assert audit["sourceOffset"] == 7
    assert audit["payloadDigest"] is not None


def test_an_event_no_flow_handles_is_skipped_with_an_audit(flow_set: FlowSet) -> None:
    event = copy.deepcopy(sample("d365-salesorder-created"))
    event["envelope"]["message"] = "Delete"
    outputs = _handler(flow_set)(record(event))
    assert [o.topic for o in outputs] == [AUDIT_TOPIC]
    assert outputs[0].value["outcome"] == "SKIPPED"
    assert "Delete" in outputs[0].value["what"]


def test_a_broken_order_goes_to_the_dlq_with_every_violated_rule(flow_set: FlowSet) -> None:
    outputs = _handler(flow_set)(record(_broken_order(), raw=b"original"))
    dlq, audit = outputs
    assert dlq.topic == "transformer.dlq"
    assert dlq.value == b"original"
    assert dlq.key == b"order-1"
    message = dlq.headers[h.ERROR_MESSAGE]
    assert message is not None
    for rule in (
        "PurchaseOrderByCustomer [required]",
        "TransactionCurrency [in_table]",
        "to_Item[0].RequestedQuantity [min]",
    ):
        assert rule.encode() in message
    assert dlq.headers[h.ERROR_CLASS] == b"invalid"
    listed = json.loads(dlq.headers[VIOLATIONS_HEADER] or b"[]")
    assert {v["field"] for v in listed} == {
        "PurchaseOrderByCustomer",
        "TransactionCurrency",
        "to_Item[0].RequestedQuantity",
    }
    assert audit.topic == AUDIT_TOPIC
    assert audit.value["outcome"] == "DEAD_LETTERED"
    assert "3 rule(s) violated" in audit.value["error"]


def test_a_missing_customer_xref_is_retryable_from_the_source_topic(flow_set: FlowSet) -> None:
    with pytest.raises(PrerequisiteMissingError, match="prerequisite missing: account d365 id"):
        _handler(flow_set, InMemoryLookups())(record(sample("d365-salesorder-created")))


def test_a_missing_xref_names_the_link_whose_arrival_releases_it(flow_set: FlowSet) -> None:
    event = sample("d365-salesorder-created")
    with pytest.raises(PrerequisiteMissingError) as caught:
        _handler(flow_set, CrossReferences())(record(event))
    customer = event["data"]["_customerid_value"]
    awaited = f"account:{customer}"  # the key the sinks link it under in xref.ids
    assert caught.value.awaits == (awaited,)
    table = CrossReferences()
    assert not table.satisfied(caught.value.awaits)
    reference = {"entity": "account", "d365Id": customer, "s4Id": "17100001"}
    table.put(key=awaited.encode(), reference=reference)
    assert table.satisfied(caught.value.awaits)
    assert _handler(flow_set, table)(record(event))[0].value["SoldToParty"] == "17100001"


def test_a_missing_xref_after_the_last_retry_tier_is_dead_lettered(flow_set: FlowSet) -> None:
    last = ROUTES.tiers[-1].topic
    outputs = _handler(flow_set, InMemoryLookups())(
        record(sample("d365-salesorder-created"), delivered_from=last)
    )
    dlq, audit = outputs
    assert dlq.topic == "transformer.dlq"
    assert b"prerequisite missing" in (dlq.headers[h.ERROR_MESSAGE] or b"")
    assert dlq.headers[h.ERROR_CLASS] == b"retryable"
    assert audit.value["outcome"] == "DEAD_LETTERED"


def test_undecodable_bytes_are_dead_lettered_and_audited(flow_set: FlowSet) -> None:
    bad = record(None)
    bad = type(bad)(
        **{
            **{f: getattr(bad, f) for f in bad.__slots__},
            "value": SourceEvent(value=None, raw=b"\x00junk", error=ValueError("x")),
        }
    )
    dlq, audit = _handler(flow_set)(bad)
    assert dlq.value == b"\x00junk"
    assert dlq.headers[h.ERROR_STAGE] == b"decode"
    assert audit.value["stage"] == "decode"


def test_a_record_sees_the_flow_set_in_service_when_it_is_read(flow_set: FlowSet) -> None:
    current = {"set": FlowSet(flows={})}
    handler = TransformHandler(flows=lambda: current["set"], lookups=XREF, routes=ROUTES)
    event = sample("d365-salesorder-created")
    assert [o.value["outcome"] for o in handler(record(event))] == ["SKIPPED"]
    current["set"] = flow_set
    assert len(handler(record(event))) == 2
