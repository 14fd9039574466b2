"""The SQLite store: nested transactions roll back to their savepoint; state persists."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.sandbox_s4.store import Store


def test_nested_rollback_keeps_the_outer_work(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "s.db")
    with store.transaction():
        store.put(service="S", entity_set="E", key=("1",), row={"K": "1"})
        with pytest.raises(ValueError), store.transaction():
            store.put(service="S", entity_set="E", key=("2",), row={"K": "2"})
            raise ValueError
        store.put(service="S", entity_set="E", key=("3",), row={"K": "3"})
    assert [r["K"] for r in store.rows(service="S", entity_set="E")] == ["1", "3"]
    with pytest.raises(ValueError), store.transaction():
        store.put(service="S", entity_set="E", key=("4",), row={"K": "4"})
        raise ValueError
    store.close()
    reopened = Store(path=tmp_path / "s.db")
    assert [r["K"] for r in reopened.rows(service="S", entity_set="E")] == ["1", "3"]
    assert reopened.next_number(name="n", start=10) == 10
    assert reopened.next_number(name="n", start=10) == 11
    reopened.close()


def test_queue_lock_release_and_acknowledge(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "q.db")
    store.enqueue(queue="q", data="a", content_type="application/json")
    store.enqueue(queue="q", data="b", content_type="application/json")
    first = store.dequeue(queue="q", lock=True)
    assert first is not None and first[1] == "a"
    second = store.dequeue(queue="q", lock=False)
    assert second is not None and second[1] == "b"
    assert store.dequeue(queue="q", lock=True) is None
    store.release(message_id=first[0])
    again = store.dequeue(queue="q", lock=True)
    assert again is not None and again[0] == first[0]
    assert store.acknowledge(queue="q", message_id=first[0])
    assert store.queue_depth(queue="q") == 0
    store.close()
