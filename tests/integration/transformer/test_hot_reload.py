"""Hot reload of the flow folder in a running transformer, including a broken file."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from isthmus.kafka import headers as h
from isthmus.testing.kafka import drain
from tests.integration.transformer.conftest import ACCOUNT, FLOW, Stage


def _wait_metric(stage: Stage, name: str, *, at_least: float) -> float:
    deadline = time.monotonic() + 30
    value = stage.metric(name)
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
        value = stage.metric(name)
    return value


def _command_of(
    stage: Stage, event: dict[str, Any], *, expected: int
) -> tuple[Any, dict[str, bytes]]:
    messages = drain(stage.broker, stage.commands, expected=expected, timeout_s=30)
    key = event["data"]["salesorderid"].encode()
    [message] = [m for m in messages if m.key() == key]
    return stage.decode(message), dict(h.of(message))


def test_a_new_version_applies_to_later_records_and_a_broken_file_is_rejected(
    stage: Stage, make_order: Callable[..., dict[str, Any]]
) -> None:
    stage.send_xref(entity="account", d365=ACCOUNT, s4="17100001")
    stage.start()
    first = make_order(1)
    stage.send_order(first)
    command, headers = _command_of(stage, first, expected=1)
    assert command["header"]["flow"] == "d365-salesorder-to-s4@1"
    assert command["DistributionChannel"] == "10"

    path = stage.folder / FLOW
    original = path.read_text()
    version_two = original.replace("version: 1\n", "version: 2\n", 1).replace(
        'DistributionChannel: {const: "10"}', 'DistributionChannel: {const: "12"}', 1
    )
    assert version_two.count('"12"') == 1
    path.write_text(version_two)
    assert _wait_metric(stage, "isthmus_transformer_flow_reloads_total", at_least=1) >= 1
    second = make_order(2)
    stage.send_order(second)
    command, headers = _command_of(stage, second, expected=2)
    assert command["header"]["flow"] == "d365-salesorder-to-s4@2"
    assert command["DistributionChannel"] == "12"
    assert headers["isthmus_flow_version"] == b"2"

    broken = version_two.replace("version: 2\n", "version: 3\n", 1).replace(
        "SalesOrderType:", "SalesOrderType: 'if(totalamount >'\n  Broken:", 1
    )
    path.write_text(broken)
    failures = "isthmus_transformer_flow_reload_failures_total"
    assert _wait_metric(stage, failures, at_least=1) >= 1
    third = make_order(3)
    stage.send_order(third)
    command, headers = _command_of(stage, third, expected=3)
    assert command["header"]["flow"] == "d365-salesorder-to-s4@2"  # the old version keeps running
    assert stage.process is not None
    log = stage.logs.read_text()
    assert "FLOW RELOAD REJECTED" in log
    assert FLOW in log
