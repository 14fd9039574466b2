"""Replay moves exactly the selected dead letters back; they are then processed, once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from isthmus.cli.app import app
from isthmus.kafka import headers as h
from isthmus.kafka.errors import InvalidRecordError
from isthmus.kafka.records import Output, Record
from isthmus.kafka.replay import ReplaySelection, replay_dead_letters
from isthmus.testing.kafka import Broker, drain

from .conftest import Group, group_loop, produce, running

pytestmark = pytest.mark.integration


def test_replay_moves_exactly_the_selected_records_and_never_twice(
    kafka_broker: Broker, make_group: Callable[..., Group]
) -> None:
    group = make_group()
    fixed: list[bool] = []

    def handler(record: Record[bytes, bytes]) -> list[Output]:
        if record.value.startswith(b"bad") and not fixed:
            raise InvalidRecordError("SoldToParty is missing")
        value = record.value + b"@" + str(record.attempt).encode()
        return [Output(topic=group.output, key=record.key, value=value)]

    processor = group_loop(kafka_broker, group, handler)
    inputs = [(b"k1", b"good"), (b"k2", b"bad-2"), (b"k3", b"bad-3"), (b"k4", b"bad-4")]
    dlq = group.routes.dlq
    with running(processor):
        produce(kafka_broker, group.source, inputs)
        assert len(drain(kafka_broker, dlq, expected=3)) == 3
        selection = ReplaySelection(keys=frozenset({b"k2", b"k4"}))

        dry = replay_dead_letters(
            kafka=kafka_broker.settings, dlq=dlq, selection=selection, dry_run=True
        )
        assert [letter.key for letter in dry.selected] == [b"k2", b"k4"]
        assert dry.moved == 0

        fixed.append(True)
        moved = replay_dead_letters(kafka=kafka_broker.settings, dlq=dlq, selection=selection)
        assert moved.moved == 2
        assert dict(moved.by_target) == {group.source: 2}
        outputs = drain(kafka_broker, group.output, expected=3)

        again = replay_dead_letters(kafka=kafka_broker.settings, dlq=dlq, selection=selection)
        # offset 0 lies below the committed mark and is not even read again; offset 2 is skipped
        assert (again.moved, again.already_replayed, len(again.selected)) == (0, 1, 0)

        result = CliRunner().invoke(
            app,
            [
                "replay",
                "run",
                dlq,
                "--key",
                "k3",
                "--bootstrap-servers",
                kafka_broker.bootstrap_servers,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "moved 1" in result.output
        listing = CliRunner().invoke(
            app, ["replay", "list", dlq, "--bootstrap-servers", kafka_broker.bootstrap_servers]
        )
        assert listing.exit_code == 0, listing.output
        assert "would move 0" in listing.output  # every dead letter was replayed once
        outputs = drain(kafka_broker, group.output, expected=4)
    assert sorted(m.value() or b"" for m in outputs) == [
        b"bad-2@2",
        b"bad-3@2",
        b"bad-4@2",
        b"good@0",
    ]
    source = drain(kafka_broker, group.source, expected=7)
    replayed = [m for m in source if h.get(h.of(m), h.REPLAYED_FROM)]
    assert [m.key() for m in replayed] == [b"k2", b"k4", b"k3"]
    assert {h.get_str(h.of(m), h.ERROR_ATTEMPT) for m in replayed} == {"2"}
    assert len(drain(kafka_broker, dlq, expected=3)) == 3  # the DLQ itself keeps its history
