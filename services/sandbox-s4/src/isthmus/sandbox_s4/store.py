"""SQLite state of the sandbox: entities in wire form, number ranges, call log, messaging."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from isthmus.sandbox_kit.calllog import CallRecord

Row = dict[str, Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    service TEXT NOT NULL, entity_set TEXT NOT NULL, key TEXT NOT NULL, k1 TEXT NOT NULL,
    data TEXT NOT NULL, PRIMARY KEY (service, entity_set, key));
CREATE INDEX IF NOT EXISTS entities_k1 ON entities (service, entity_set, k1);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, query TEXT NOT NULL, status INTEGER NOT NULL, user TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, name));
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, data TEXT NOT NULL,
    content_type TEXT NOT NULL, locked INTEGER NOT NULL DEFAULT 0);
"""


def _key(values: tuple[Any, ...]) -> str:
    return json.dumps([str(v) for v in values], separators=(",", ":"))


class Store:
    """One SQLite database; all access is serialised by a lock (one writer, the event loop)."""

    def __init__(self, *, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(calls)")}
        if "body" not in columns:  # databases written before the call log kept bodies
            self._db.execute("ALTER TABLE calls ADD COLUMN body TEXT NOT NULL DEFAULT ''")
        if "fault" not in columns:  # ... and before it marked answers lost after commit
            self._db.execute("ALTER TABLE calls ADD COLUMN fault TEXT NOT NULL DEFAULT ''")
            self._db.execute("ALTER TABLE calls ADD COLUMN app_status INTEGER")
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (nested blocks are savepoints)."""
        with self._lock:
            name = f"sp{self._depth}"
            self._db.execute("BEGIN" if self._depth == 0 else f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if self._depth == 0:
                    self._db.execute("ROLLBACK")
                else:
                    self._db.execute(f"ROLLBACK TO {name}")
                    self._db.execute(f"RELEASE {name}")
                raise
            self._depth -= 1
            self._db.execute("COMMIT" if self._depth == 0 else f"RELEASE {name}")

    def get(self, *, service: str, entity_set: str, key: tuple[Any, ...]) -> Row | None:
        """One entity by key, or None."""
        with self._lock:
            found = self._db.execute(
                "SELECT data FROM entities WHERE service=? AND entity_set=? AND key=?",
                (service, entity_set, _key(key)),
            ).fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def put(self, *, service: str, entity_set: str, key: tuple[Any, ...], row: Row) -> None:
        """Insert or replace one entity."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO entities VALUES (?,?,?,?,?)",
                (service, entity_set, _key(key), str(key[0]), json.dumps(row)),
            )

    def delete(self, *, service: str, entity_set: str, key: tuple[Any, ...]) -> None:
        """Remove one entity."""
        with self._lock:
            self._db.execute(
                "DELETE FROM entities WHERE service=? AND entity_set=? AND key=?",
                (service, entity_set, _key(key)),
            )

    def rows(self, *, service: str, entity_set: str, first_key: str | None = None) -> list[Row]:
        """All entities of a set (optionally only those whose first key part is ``first_key``)."""
        sql = "SELECT data FROM entities WHERE service=? AND entity_set=?"
        args: tuple[Any, ...] = (service, entity_set)
        if first_key is not None:
            sql, args = sql + " AND k1=?", (*args, first_key)
        with self._lock:
            found = self._db.execute(sql + " ORDER BY rowid", args).fetchall()
        return [dict(json.loads(data)) for (data,) in found]

    def next_number(self, *, name: str, start: int) -> int:
        """The next number of a number range (first call returns ``start``)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=value+1",
                (name, start),
            )
            (value,) = self._db.execute(
                "SELECT value FROM counters WHERE name=?", (name,)
            ).fetchone()
        return int(value)

    def record_call(self, call: CallRecord) -> None:
        """Append one received call (with the start of its request body) to the call log.

        ``fault`` is stored as ``""`` when no fault changed the answer after the application
        ran; ``app_status`` is the status the application answered with then.
        """
        with self._lock:
            self._db.execute(
                "INSERT INTO calls (at, method, path, query, status, user, body, fault, app_status)"
                " VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    call.at,
                    call.method,
                    call.path,
                    call.query,
                    call.status,
                    call.user,
                    call.body.decode("utf-8", errors="replace"),
                    call.fault or "",
                    call.app_status,
                ),
            )

    def calls(self) -> list[Row]:
        """The call log, oldest first."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, at, method, path, query, status, user, body, fault, app_status "
                "FROM calls ORDER BY id"
            ).fetchall()
        columns = (
            "id",
            "at",
            "method",
            "path",
            "query",
            "status",
            "user",
            "body",
            "fault",
            "app_status",
        )
        return [dict(zip(columns, values, strict=True)) for values in found]

    def clear_calls(self) -> None:
        """Forget the call log."""
        with self._lock:
            self._db.execute("DELETE FROM calls")

    def put_document(self, *, kind: str, name: str, data: Row) -> None:
        """Store a named configuration document (queue, subscription, ...)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?)", (kind, name, json.dumps(data))
            )

    def document(self, *, kind: str, name: str) -> Row | None:
        """One named document, or None."""
        with self._lock:
            found = self._db.execute(
                "SELECT data FROM documents WHERE kind=? AND name=?", (kind, name)
            ).fetchone()
        return None if found is None else dict(json.loads(found[0]))

    def documents(self, *, kind: str) -> dict[str, Row]:
        """All documents of one kind by name."""
        with self._lock:
            found = self._db.execute(
                "SELECT name, data FROM documents WHERE kind=? ORDER BY name", (kind,)
            ).fetchall()
        return {name: dict(json.loads(data)) for name, data in found}

    def delete_document(self, *, kind: str, name: str) -> bool:
        """Remove a document; whether it existed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM documents WHERE kind=? AND name=?", (kind, name))
        return cursor.rowcount > 0

    def enqueue(self, *, queue: str, data: str, content_type: str) -> None:
        """Append a message to a queue."""
        with self._lock:
            self._db.execute(
                "INSERT INTO messages (queue, data, content_type) VALUES (?,?,?)",
                (queue, data, content_type),
            )

    def dequeue(self, *, queue: str, lock: bool) -> tuple[int, str, str] | None:
        """The oldest unlocked message; removed at once, or locked until acknowledged."""
        with self._lock:
            found = self._db.execute(
                "SELECT id, data, content_type FROM messages WHERE queue=? AND locked=0 "
                "ORDER BY id LIMIT 1",
                (queue,),
            ).fetchone()
            if found is None:
                return None
            sql = (
                "UPDATE messages SET locked=1 WHERE id=?"
                if lock
                else "DELETE FROM messages WHERE id=?"
            )
            self._db.execute(sql, (found[0],))
        return int(found[0]), str(found[1]), str(found[2])

    def acknowledge(self, *, queue: str, message_id: int) -> bool:
        """Remove a locked message; whether it was there."""
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM messages WHERE queue=? AND id=? AND locked=1", (queue, message_id)
            )
        return cursor.rowcount > 0

    def release(self, *, message_id: int) -> None:
        """Unlock a message whose delivery failed, so it is delivered again."""
        with self._lock:
            self._db.execute("UPDATE messages SET locked=0 WHERE id=?", (message_id,))

    def queue_depth(self, *, queue: str) -> int:
        """Messages waiting in a queue."""
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM messages WHERE queue=?", (queue,)
            ).fetchone()
        return int(count)

    def wipe(self) -> None:
        """Delete every entity, number range, call, document and message."""
        with self._lock:
            for table in ("entities", "counters", "calls", "documents", "messages"):
                self._db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
