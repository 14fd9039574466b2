"""Exactly-once output across a SIGKILL and restart of the transformer process."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from isthmus.testing.kafka import drain
from tests.integration.transformer.conftest import ACCOUNT, Stage

ORDERS = 2500


def _wait_for_uncommitted_output(stage: Stage, *, at_least: int) -> int:
    watcher = Consumer(
        {
            **stage.broker.settings.client_config(),
            "group.id": f"{stage.group}-watch",
            "auto.offset.reset": "earliest",
            "isolation.level": "read_uncommitted",
        }
    )
    # assign, not subscribe: no group join, so the kill lands while the input is still flowing
    watcher.assign([TopicPartition(stage.commands, p, OFFSET_BEGINNING) for p in range(3)])
    seen, deadline = 0, time.monotonic() + 60
    try:
        while seen < at_least and time.monotonic() < deadline:
            seen += sum(1 for m in watcher.consume(500, timeout=0.2) if m.error() is None)
    finally:
        watcher.close()
    return seen


def test_each_order_yields_one_command_for_read_committed_even_after_sigkill(
    stage: Stage, make_order: Callable[..., dict[str, Any]]
) -> None:
    stage.send_xref(entity="account", d365=ACCOUNT, s4="17100001")
    events = [make_order(n) for n in range(ORDERS)]
    stage.send_orders(events)
    stage.start(batch_size=20)
    assert _wait_for_uncommitted_output(stage, at_least=50) >= 50
    assert stage.process is not None
    stage.process.kill()  # SIGKILL mid-stream: the open transaction is never committed
    before_restart = len(drain(stage.broker, stage.commands, timeout_s=10))
    assert before_restart < ORDERS  # the kill really interrupted the stream
    stage.start(batch_size=20)

    commands = drain(stage.broker, stage.commands, expected=ORDERS, timeout_s=90)
    keys = Counter((m.key() or b"").decode() for m in commands)
    assert set(keys) == {e["data"]["salesorderid"] for e in events}
    duplicated = [key for key, count in keys.items() if count > 1]
    assert duplicated == []
    audits = stage.audits(expected=ORDERS)
    hops = Counter(
        (a["sourcePartition"], a["sourceOffset"]) for a in audits if a["outcome"] == "SUCCEEDED"
    )
    assert len(hops) == ORDERS
    assert max(hops.values()) == 1
