"""The oracle's ledgers: per-key sequence numbers from threads, and JSON-lines round trips."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.faults.ledger import (
    Acked,
    Applied,
    DeadLetter,
    Injected,
    LagSample,
    Ledger,
    load_lines,
    save_lines,
)

pytestmark = pytest.mark.unit


def test_sequence_numbers_start_at_one_per_key_and_never_repeat_across_threads() -> None:
    ledger = Ledger()
    seqs: dict[str, list[int]] = {"A": [], "B": []}
    lock = threading.Lock()

    def produce(key: str) -> None:
        for _ in range(200):
            seq = ledger.next_seq(key)
            ledger.record(Acked(event_id=f"{key}-{seq}", key=key, seq=seq))
            with lock:
                seqs[key].append(seq)

    threads = [threading.Thread(target=produce, args=(key,)) for key in ("A", "B", "A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seqs["A"]) == list(range(1, 401))
    assert sorted(seqs["B"]) == list(range(1, 401))
    assert len(ledger) == 800
    assert len({row.event_id for row in ledger.acked()}) == 800


def test_a_loaded_ledger_holds_the_same_events_and_continues_each_key(tmp_path: Path) -> None:
    ledger = Ledger()
    for key in ("A", "A", "B"):
        seq = ledger.next_seq(key)
        ledger.record(Acked(event_id=f"{key}{seq}", key=key, seq=seq))
    path = tmp_path / "acked.jsonl"
    ledger.save(path)
    loaded = Ledger.load(path)
    assert loaded.acked() == ledger.acked()
    assert (loaded.next_seq("A"), loaded.next_seq("B"), loaded.next_seq("C")) == (3, 2, 1)


def test_every_kind_of_row_survives_json_lines_with_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    applied = [Applied(event_id="e1", key="A", seq=1, effective=True, request_id="r1", at=1.5)]
    dead = [
        DeadLetter(
            event_id="e2",
            topic="sap-sink.dlq",
            headers={"isthmus_error_class": b"invalid", "raw": b"\x00\xff"},
            value=b"\x00\x01not avro",
        ),
        DeadLetter(event_id="e3", topic="sap-sink.dlq", headers={}, value=None),
    ]
    injected = [Injected(event_id="e2", value=b"\x00\x01not avro")]
    lag = [LagSample(at=0.0, lag=12), LagSample(at=1.0, lag=0)]
    for rows, kind in (
        (applied, Applied),
        (dead, DeadLetter),
        (injected, Injected),
        (lag, LagSample),
    ):
        save_lines(path, rows)
        assert load_lines(path, kind) == rows


def test_a_line_that_is_not_an_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"at": 0.0, "lag": 1}\n\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:3"):
        load_lines(path, LagSample)
