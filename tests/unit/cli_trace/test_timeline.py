"""The timeline follows a record across key changes through correlation and trace ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from isthmus.cli.timeline import Hop, timeline

pytestmark = pytest.mark.unit

_T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def _hop(minute: int, key: str, *, corr: str | None, target: str | None = None) -> Hop:
    event: dict[str, Any] = {
        "occurredAt": _T0 + timedelta(minutes=minute),
        "service": "svc",
        "stage": "stage",
        "what": f"hop {minute}",
        "outcome": "SUCCEEDED",
        "businessKey": key,
        "attempt": 1,
        "correlationId": corr,
        "targetId": target,
        "sourceTopic": "t",
        "sourcePartition": 0,
        "sourceOffset": minute,
    }
    return Hop.of(event)


def test_journey_follows_correlation_and_target_ids_in_time_order() -> None:
    hops = [
        _hop(3, "4500001", corr="corr-a"),  # S/4 number, later hop, same correlation
        _hop(0, "order-guid", corr="corr-a"),
        _hop(2, "order-guid", corr="corr-a", target="4500001"),
        _hop(1, "other-order", corr="corr-b"),
        _hop(4, "4500001", corr=None),  # no correlation id, but the key was a target id
    ]

    journey = timeline(hops, key="order-guid")

    assert [hop.what for hop in journey] == ["hop 0", "hop 2", "hop 3", "hop 4"]
    assert journey[0].source == "t[0]@0"


def test_unknown_key_has_no_journey() -> None:
    assert timeline([_hop(0, "a", corr="c")], key="b") == []
