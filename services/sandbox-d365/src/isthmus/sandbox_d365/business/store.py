"""Rows in memory, written through to SQLite so the organisation survives a restart."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Row = dict[str, Any]
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rows (entity TEXT, id TEXT, data TEXT, PRIMARY KEY (entity, id))",
    "CREATE TABLE IF NOT EXISTS tombstones (entity TEXT, id TEXT, version INTEGER, "
    "PRIMARY KEY (entity, id, version))",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
)


class Store:
    """All rows of all tables; writes inside ``transaction()`` are atomic in memory and on disk.

    Alternate keys are indexed (``keys`` maps a table to its key column tuples) so upserts by
    key do not scan the table. Row versions come from one organisation-wide counter, as
    Dataverse's ``versionnumber`` does; change tracking compares against it.
    """

    def __init__(
        self,
        *,
        path: Path,
        keys: Mapping[str, tuple[tuple[str, ...], ...]],
        related: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            self._db.execute(statement)
        self._keys = keys
        self._related_columns = related or {}
        self._undo: list[tuple[str, str, Row | None]] | None = None
        self._depth = 0
        # Called at every (nested) transaction start, commit and rollback, innermost first.
        self.on_begin: list[Callable[[], None]] = []
        self.on_commit: list[Callable[[], None]] = []
        self.on_rollback: list[Callable[[], None]] = []
        self._load()

    def _load(self) -> None:
        self._rows: dict[str, dict[str, Row]] = {}
        self._index: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], str]] = {}
        self._children: dict[tuple[str, str], dict[Any, dict[str, None]]] = {}
        for entity, row_id, data in self._db.execute("SELECT entity, id, data FROM rows"):
            self._set(entity, row_id, json.loads(data))
        self._version = int(self.meta("version") or 1000)

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    # reads ---------------------------------------------------------------------------------
    def get(self, entity: str, row_id: str) -> Row | None:
        """A copy of one row, or None."""
        row = self._rows.get(entity, {}).get(row_id)
        return None if row is None else dict(row)

    def peek(self, entity: str, row_id: str) -> Row | None:
        """The stored row itself (read only; cheaper than ``get``)."""
        return self._rows.get(entity, {}).get(row_id)

    def all(self, entity: str) -> list[Row]:
        """Every row of a table, in insertion order (read only)."""
        return list(self._rows.get(entity, {}).values())

    def find_key(
        self, entity: str, columns: tuple[str, ...], values: tuple[Any, ...]
    ) -> str | None:
        """The id of the row whose alternate key ``columns`` has ``values``."""
        return self._index.get((entity, columns), {}).get(values)

    def related(self, entity: str, column: str, value: Any) -> list[Row]:
        """Rows of ``entity`` whose indexed lookup ``column`` equals ``value`` (read only)."""
        table = self._rows.get(entity, {})
        if column not in self._related_columns.get(entity, ()):
            return [row for row in table.values() if row.get(column) == value]  # not indexed
        ids = self._children.get((entity, column), {}).get(value, {})
        return [table[i] for i in ids if i in table]

    def tombstones(self, entity: str, since: int) -> list[tuple[str, int]]:
        """Deleted ids of ``entity`` with the version of their deletion, newer than ``since``."""
        cursor = self._db.execute(
            "SELECT id, version FROM tombstones WHERE entity = ? AND version > ? ORDER BY version",
            (entity, since),
        )
        return [(str(i), int(v)) for i, v in cursor]

    @property
    def version(self) -> int:
        """The newest row version handed out."""
        return self._version

    # writes --------------------------------------------------------------------------------
    def put(self, entity: str, row_id: str, row: Row) -> int:
        """Insert or replace a row; stamps and returns its new ``versionnumber``."""
        self._version += 1
        row["versionnumber"] = self._version
        self._remember(entity, row_id)
        self._set(entity, row_id, row)
        self._db.execute(
            "INSERT OR REPLACE INTO rows VALUES (?, ?, ?)", (entity, row_id, json.dumps(row))
        )
        self._save_version()
        return self._version

    def delete(self, entity: str, row_id: str) -> None:
        """Remove a row and leave a tombstone for change tracking."""
        self._version += 1
        self._remember(entity, row_id)
        self._set(entity, row_id, None)
        self._db.execute("DELETE FROM rows WHERE entity = ? AND id = ?", (entity, row_id))
        self._db.execute("INSERT INTO tombstones VALUES (?, ?, ?)", (entity, row_id, self._version))
        self._save_version()

    def next_number(self, name: str, *, start: int) -> int:
        """The next value of a named counter (auto numbers)."""
        value = int(self.meta(f"counter:{name}") or start - 1) + 1
        self.set_meta(f"counter:{name}", str(value))
        return value

    def meta(self, key: str) -> str | None:
        """A stored setting."""
        found = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if found is None else str(found[0])

    def set_meta(self, key: str, value: str) -> None:
        """Store a setting."""
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def clear(self) -> None:
        """Delete every row, tombstone and counter (signing keys and apps stay)."""
        with self.transaction():
            self._db.execute("DELETE FROM rows")
            self._db.execute("DELETE FROM tombstones")
            self._db.execute("DELETE FROM meta WHERE key LIKE 'counter:%'")
        self._undo = None
        self._load()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all.

        A nested call is a savepoint: if it fails, only its own writes are undone and the outer
        transaction goes on (a failed ``$batch`` part or change set inside a larger request).
        """
        outer = self._undo is None
        undo = self._undo if self._undo is not None else []
        mark, version = len(undo), self._version
        savepoint = f"sp{self._depth}"
        self._undo, self._depth = undo, self._depth + 1
        self._db.execute("BEGIN" if outer else f"SAVEPOINT {savepoint}")
        for hook in self.on_begin:
            hook()
        try:
            yield
        except BaseException:
            self._undo_to(mark, version, outer=outer, savepoint=savepoint)
            raise
        else:
            self._db.execute("COMMIT" if outer else f"RELEASE {savepoint}")
            for hook in self.on_commit:
                hook()
        finally:
            self._depth -= 1
            if outer:
                self._undo = None

    def _undo_to(self, mark: int, version: int, *, outer: bool, savepoint: str) -> None:
        if outer:
            self._db.execute("ROLLBACK")
        else:
            self._db.execute(f"ROLLBACK TO {savepoint}")
            self._db.execute(f"RELEASE {savepoint}")
        undo = self._undo or []
        for entity, row_id, old in reversed(undo[mark:]):
            self._set(entity, row_id, old)
        del undo[mark:]
        self._version = version
        for hook in self.on_rollback:
            hook()

    # internals -----------------------------------------------------------------------------
    def _remember(self, entity: str, row_id: str) -> None:
        if self._undo is not None:
            self._undo.append((entity, row_id, self._rows.get(entity, {}).get(row_id)))

    def _set(self, entity: str, row_id: str, row: Row | None) -> None:
        table = self._rows.setdefault(entity, {})
        old = table.get(row_id)
        for columns in self._keys.get(entity, ()):
            index = self._index.setdefault((entity, columns), {})
            if old is not None:
                index.pop(tuple(old.get(c) for c in columns), None)
            if row is not None and all(row.get(c) is not None for c in columns):
                index[tuple(row.get(c) for c in columns)] = row_id
        for column in self._related_columns.get(entity, ()):
            children = self._children.setdefault((entity, column), {})
            if old is not None:
                children.get(old.get(column), {}).pop(row_id, None)
            if row is not None and row.get(column) is not None:
                children.setdefault(row[column], {})[row_id] = None
        if row is None:
            table.pop(row_id, None)
        else:
            table[row_id] = row  # keeps the row's place: default order is creation order

    def _save_version(self) -> None:
        self.set_meta("version", str(self._version))
