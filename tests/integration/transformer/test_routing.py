"""Commands, DLQ reasons, audit events and xref lookups of a running transformer process."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from isthmus.kafka import headers as h
from isthmus.testing.kafka import drain
from tests.integration.transformer.conftest import ACCOUNT, Stage

LATE = "00000000-0000-0000-0000-0000000000b1"
NEVER = "00000000-0000-0000-0000-0000000000c1"


def _broken(make_order: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    event = make_order(2)
    event["data"]["isocurrencycode"] = "zzz"
    event["data"]["ordernumber"] = None
    event["data"]["order_details"][0]["quantity"] = Decimal(0)
    return event


def _by_key(messages: list[Any]) -> dict[str, Any]:
    return {m.key().decode(): m for m in messages}


def test_each_record_gets_its_command_or_dlq_reason_and_one_audit_event(
    stage: Stage, make_order: Callable[..., dict[str, Any]]
) -> None:
    stage.send_xref(entity="account", d365=ACCOUNT, s4="17100001")
    stage.start()
    good, broken, late, never = (
        make_order(1),
        _broken(make_order),
        make_order(3, LATE),
        make_order(4, NEVER),
    )
    skipped = make_order(5)
    skipped["envelope"]["message"] = "Delete"
    for event in (good, broken, late, never, skipped):
        stage.send_order(event)
    stage.send_raw("junk-key", b"\x00not avro", "junk-event")
    time.sleep(0.5)  # the late prerequisite arrives while its order waits in a retry tier
    stage.send_xref(entity="account", d365=LATE, s4="17100099")

    commands = _by_key(drain(stage.broker, stage.commands, expected=2, timeout_s=30))
    assert set(commands) == {good["data"]["salesorderid"], late["data"]["salesorderid"]}
    good_command = stage.decode(commands[good["data"]["salesorderid"]])
    assert good_command["SoldToParty"] == "17100001"  # read from the xref topic
    assert stage.decode(commands[late["data"]["salesorderid"]])["SoldToParty"] == "17100099"
    headers = dict(h.of(commands[good["data"]["salesorderid"]]))
    assert headers["isthmus_flow"] == b"d365-salesorder-to-s4"
    assert headers["isthmus_flow_version"] == b"1"
    assert headers[h.CE_TYPE] == b"io.isthmus.s4.SalesOrderCommand"
    assert h.TRACEPARENT in headers
    assert good_command["header"]["causationId"] == good["envelope"]["eventId"]

    dead = _by_key(drain(stage.broker, stage.dlq, expected=3, timeout_s=40))
    assert set(dead) == {broken["data"]["salesorderid"], never["data"]["salesorderid"], "junk-key"}
    reason = dict(h.of(dead[broken["data"]["salesorderid"]]))
    message = reason[h.ERROR_MESSAGE].decode()
    assert "3 rule(s) violated" in message
    for rule in (
        "PurchaseOrderByCustomer [required]",
        "TransactionCurrency [in_table]",
        "RequestedQuantity [min]",
    ):
        assert rule in message
    assert len(json.loads(reason["isthmus_flow_violations"])) == 3
    waited = dict(h.of(dead[never["data"]["salesorderid"]]))
    assert b"prerequisite missing" in waited[h.ERROR_MESSAGE]
    assert waited[h.ERROR_CLASS] == b"retryable"
    assert dict(h.of(dead["junk-key"]))[h.ERROR_STAGE] == b"decode"

    audits = stage.audits(expected=6)
    outcomes = {(a["businessKey"], a["outcome"]) for a in audits}
    assert (good["data"]["salesorderid"], "SUCCEEDED") in outcomes
    assert (late["data"]["salesorderid"], "SUCCEEDED") in outcomes
    assert (broken["data"]["salesorderid"], "DEAD_LETTERED") in outcomes
    assert (never["data"]["salesorderid"], "DEAD_LETTERED") in outcomes
    assert (skipped["data"]["salesorderid"], "SKIPPED") in outcomes
    assert ("junk-key", "DEAD_LETTERED") in outcomes
    assert len(audits) == 6
