"""Two transformer replicas in one consumer group share the partitions; each order maps once."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from isthmus.devenv.ports import free_port
from isthmus.testing.kafka import drain
from tests.integration.transformer.conftest import ACCOUNT, Stage

ORDERS = 300
_ASSIGNED = re.compile(r"assigned ([^\"]+)")


def _partitions(log: Path, topic: str) -> set[str]:
    owned: set[str] = set()
    for match in _ASSIGNED.finditer(log.read_text(errors="replace")):
        owned |= {part for part in match.group(1).split(", ") if part.startswith(f"{topic}/")}
    return owned


def test_two_replicas_split_the_partitions_and_every_order_maps_once(
    stage: Stage, make_order: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    stage.send_xref(entity="account", d365=ACCOUNT, s4="17100001")
    stage.start()
    second_log = tmp_path / "transformer-1.log"
    second = stage.replica(instance="1", port=free_port(), log=second_log)
    try:
        deadline = time.monotonic() + 60
        while not _partitions(second_log, stage.source):  # the group rebalanced onto both
            assert time.monotonic() < deadline, "the second replica never got a partition"
            time.sleep(0.2)
        events = [make_order(n) for n in range(ORDERS)]
        stage.send_orders(events)
        commands = drain(stage.broker, stage.commands, expected=ORDERS, timeout_s=60)
        keys = Counter((m.key() or b"").decode() for m in commands)
        assert set(keys) == {e["data"]["salesorderid"] for e in events}
        assert max(keys.values()) == 1
        first_owned = _partitions(stage.logs, stage.source)
        second_owned = _partitions(second_log, stage.source)
        assert first_owned | second_owned == {f"{stage.source}/{p}" for p in range(3)}
    finally:
        second.stop()
