"""The SQLite-backed store: atomic transactions, key index, persistence (pure, temp files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.business.records import Records
from isthmus.sandbox_d365.business.seed import seed, sid
from isthmus.sandbox_d365.business.store import Store

pytestmark = pytest.mark.unit
KEYS = {"account": (("accountnumber",),)}


def test_rollback_restores_rows_index_and_version(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "db.sqlite", keys=KEYS)
    store.put("account", "a", {"accountid": "a", "accountnumber": "A-1"})
    version = store.version
    with pytest.raises(RuntimeError), store.transaction():
        store.put("account", "a", {"accountid": "a", "accountnumber": "A-2"})
        store.put("account", "b", {"accountid": "b", "accountnumber": "B-1"})
        store.delete("account", "a")
        raise RuntimeError("boom")
    assert store.get("account", "a") == {
        "accountid": "a",
        "accountnumber": "A-1",
        "versionnumber": version,
    }
    assert store.get("account", "b") is None
    assert store.find_key("account", ("accountnumber",), ("A-1",)) == "a"
    assert store.find_key("account", ("accountnumber",), ("B-1",)) is None
    assert store.version == version
    assert store.tombstones("account", 0) == []


def test_rows_and_tombstones_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    store = Store(path=path, keys=KEYS)
    store.put("account", "a", {"accountid": "a", "accountnumber": "A-1"})
    store.put("account", "b", {"accountid": "b"})
    store.delete("account", "b")
    version = store.version
    store.close()
    reopened = Store(path=path, keys=KEYS)
    assert reopened.find_key("account", ("accountnumber",), ("A-1",)) == "a"
    assert [row_id for row_id, _ in reopened.tombstones("account", 0)] == ["b"]
    assert reopened.version == version
    reopened.close()


def test_nested_transaction_failure_undoes_only_its_own_writes(tmp_path: Path) -> None:
    store = Store(path=tmp_path / "db.sqlite", keys=KEYS)
    with store.transaction():
        store.put("account", "a", {"accountid": "a", "accountnumber": "A-1"})
        with pytest.raises(RuntimeError), store.transaction():
            store.put("account", "b", {"accountid": "b", "accountnumber": "B-1"})
            raise RuntimeError("part fails")
        store.put("account", "c", {"accountid": "c"})
    assert store.get("account", "b") is None
    assert store.find_key("account", ("accountnumber",), ("B-1",)) is None
    assert [row["accountid"] for row in store.all("account")] == ["a", "c"]
    store.close()
    reopened = Store(path=tmp_path / "db.sqlite", keys=KEYS)
    assert [row["accountid"] for row in reopened.all("account")] == ["a", "c"]
    reopened.close()


def test_deep_insert_events_come_in_write_order(tmp_path: Path) -> None:
    catalogue = build_catalogue()
    keys = {t.logical: t.alternate_keys for t in catalogue.by_logical.values()}
    records = Records(store=Store(path=tmp_path / "db.sqlite", keys=keys), catalogue=catalogue)
    seed(records, user_id="user")
    order = records.create(
        catalogue.table("salesorder"),
        {
            "name": "Deep",
            "pricelevelid@odata.bind": f"/pricelevels({sid('pricelevel:default')})",
            "order_details": [
                {"productid@odata.bind": f"/products({sid('product:TG11')})", "quantity": 2}
            ],
        },
        user_id="user",
    )
    events = [(e.message, e.table.logical) for e in records.drain()]
    assert events == [
        ("Create", "salesorder"),
        ("Create", "salesorderdetail"),
        ("Update", "salesorder"),
    ]
    assert order["totalamount"] == 2398.0
