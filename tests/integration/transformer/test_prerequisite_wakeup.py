"""An order waiting in a retry tier for its customer's link goes on when the link arrives."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from isthmus.kafka import headers as h
from isthmus.kafka.routing import format_delay
from isthmus.testing.kafka import drain
from tests.integration.transformer.conftest import Stage

pytestmark = pytest.mark.integration

CUSTOMER = "00000000-0000-0000-0000-0000000000d1"
# Tiers of two and four minutes: within the test's wait only the link's arrival can release
# the order; the timer cannot.
DELAYS_MS = (120_000, 240_000)


def test_waiting_order_and_its_parked_change_go_on_when_the_link_arrives(
    stage: Stage, make_order: Callable[..., dict[str, Any]]
) -> None:
    stage.start(retry_delays_ms=DELAYS_MS)
    created = make_order(1, CUSTOMER)
    changed = copy.deepcopy(created)
    changed["envelope"]["eventId"] = str(uuid.uuid4())
    changed["data"]["ordernumber"] = "SECOND-VERSION"
    stage.send_order(created)
    stage.send_order(changed)  # same key: parked behind the first, in order

    tier = f"{stage.group}.retry.{format_delay(DELAYS_MS[0])}"
    waiting = drain(stage.broker, tier, expected=2, timeout_s=60)
    assert len(waiting) == 2
    head, parked = sorted(waiting, key=lambda m: m.offset() or 0)
    assert json.loads(h.get(h.of(head), h.AWAITS) or b"[]") == [f"account:{CUSTOMER}"]
    assert h.get(h.of(parked), h.PARKED_BEHIND) is not None
    assert drain(stage.broker, stage.commands, timeout_s=3) == []  # really waiting

    stage.send_xref(entity="account", d365=CUSTOMER, s4="17100077")

    commands = drain(stage.broker, stage.commands, expected=2, timeout_s=60)
    assert len(commands) == 2, "the link's arrival did not release the order before its timer"
    first, second = (stage.decode(m) for m in sorted(commands, key=lambda m: m.offset() or 0))
    assert first["SoldToParty"] == second["SoldToParty"] == "17100077"
    assert first["header"]["causationId"] == created["envelope"]["eventId"]
    assert second["header"]["causationId"] == changed["envelope"]["eventId"]
    assert second["PurchaseOrderByCustomer"] == "SECOND-VERSION"
    assert {m.key() for m in commands} == {created["data"]["salesorderid"].encode()}
