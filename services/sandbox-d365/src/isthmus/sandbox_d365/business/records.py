"""Create, update, upsert and delete rows with Dataverse's rules; collects write events."""

from __future__ import annotations

import uuid
from typing import Any

from isthmus.sandbox_d365.business import computed, rules
from isthmus.sandbox_d365.business.rows import WriteEvent, etag_of, not_found, now_iso
from isthmus.sandbox_d365.business.store import Row, Store
from isthmus.sandbox_d365.errors import PreconditionError
from isthmus.sandbox_d365.odata.payload import Bind, Payload, not_writable, parse_payload
from isthmus.sandbox_d365.odata.refs import KeyRef
from isthmus.sandbox_d365.odata.schema import Catalogue, Table

ETAG_MISMATCH = "The version of the existing record doesn't match the RowVersion property provided."
ALREADY_EXISTS = "A record with matching key values already exists."


class Records:
    """The write rules of the Web API over the store."""

    def __init__(self, *, store: Store, catalogue: Catalogue) -> None:
        self.store = store
        self.catalogue = catalogue
        self.events: list[WriteEvent] = []
        self._marks: list[int] = []
        store.on_begin.append(self._begin)
        store.on_commit.append(self._commit)
        store.on_rollback.append(self._rollback)

    def _begin(self) -> None:
        self._marks.append(len(self.events))

    def _commit(self) -> None:
        self._marks.pop()

    def _rollback(self) -> None:
        del self.events[self._marks.pop() :]

    def drain(self) -> list[WriteEvent]:
        """The committed write events since the last drain."""
        events, self.events = self.events, []
        return events

    def find(self, table: Table, ref: KeyRef) -> str | None:
        """The row id a key addresses, if the row exists."""
        if ref.row_id is not None:
            return ref.row_id if self.store.peek(table.logical, ref.row_id) else None
        columns = tuple(c for c, _ in ref.values)
        return self.store.find_key(table.logical, columns, tuple(v for _, v in ref.values))

    def require(self, table: Table, ref: KeyRef) -> Row:
        """The row a key addresses.

        Raises:
            NotFoundError: no such row.
        """
        row_id = self.find(table, ref)
        row = None if row_id is None else self.store.peek(table.logical, row_id)
        if row is None:
            raise not_found(table, ref)
        return row

    def create(self, table: Table, body: Any, *, user_id: str, key: KeyRef | None = None) -> Row:
        """Insert a row (with deep-inserted children) and return it.

        Raises:
            DataverseError: validation, duplicate key or a bind to a missing row.
        """
        payload = parse_payload(body, table, self.catalogue, creating=True)
        with self.store.transaction():
            return self._create(table, payload, user_id=user_id, key=key)

    def _create(self, table: Table, payload: Payload, *, user_id: str, key: KeyRef | None) -> Row:
        row_id = payload.values.pop(table.key, None) or (key.row_id if key else None)
        row_id = row_id or str(uuid.uuid4())
        if self.store.peek(table.logical, row_id) is not None:
            raise PreconditionError(ALREADY_EXISTS, code="0x80040237")
        stamp = now_iso()
        row: Row = {table.key: row_id, "createdon": stamp, "modifiedon": stamp}
        for name in ("ownerid", "createdby", "modifiedby"):
            row[f"_{name}_value"] = user_id
        for column, value in key.values if key else ():
            payload.values.setdefault(column, value)
        rules.apply_state(table, row, payload.values, creating=True)
        row.update(payload.values)
        for lookup, parent_table, nested in payload.parents:
            parent = self._create(
                parent_table,
                parse_payload(nested, parent_table, self.catalogue, creating=True),
                user_id=user_id,
                key=None,
            )
            payload.binds.append(
                Bind(lookup, parent_table, KeyRef(row_id=parent[parent_table.key]))
            )
        self._apply_binds(table, row, payload.binds, creating=True)
        rules.default_currency(self.store, table, row)
        rules.check_required(table, row)
        number = computed.auto_number(self.store, table)
        if number is not None:
            row[table.autonumber[0]] = row.get(table.autonumber[0]) or number  # type: ignore[index]
        self._save(table, row)
        # The header's Create comes first; totals changed by its lines follow as an Update.
        self._emit("Create", table, row_id, None, user_id, changed=None)
        self._recalculate_parent(table, row, user_id)
        for nav, items in payload.children:
            collection = table.collections[nav]
            child_table = self.catalogue.table(collection.table)
            for item in items:
                child = parse_payload(item, child_table, self.catalogue, creating=True)
                child.binds.append(Bind(collection.lookup, table, KeyRef(row_id=row_id)))
                self._create(child_table, child, user_id=user_id, key=None)
        return self.store.get(table.logical, row_id) or row

    def update(
        self, table: Table, ref: KeyRef, body: Any, *, user_id: str, if_match: str | None = None
    ) -> Row:
        """Change an existing row.

        Raises:
            NotFoundError: the row does not exist.
            PreconditionError: ``If-Match`` does not match the row's ETag.
            DataverseError: validation errors.
        """
        payload = parse_payload(body, table, self.catalogue, creating=False)
        with self.store.transaction():
            current = self.require(table, ref)
            if if_match not in (None, "*") and if_match != etag_of(current):
                raise PreconditionError(ETAG_MISMATCH)
            return self._update(table, current, payload, user_id=user_id, key=ref)

    def _update(
        self, table: Table, current: Row, payload: Payload, *, user_id: str, key: KeyRef | None
    ) -> Row:
        for column, _ in key.values if key else ():
            payload.values.pop(column, None)  # a key cannot be changed through itself
        payload.values.pop(table.key, None)
        pre = dict(current)
        row = dict(current)
        rules.guard_closed_parent(self.store, table, row)
        state_columns = {c for c in ("statecode", "statuscode") if c in payload.values}
        rules.apply_state(table, row, payload.values, creating=False)
        row.update(payload.values)
        self._apply_binds(table, row, payload.binds, creating=False)
        row["modifiedon"] = now_iso()
        row["_modifiedby_value"] = user_id
        changed = set(payload.values) | {f"_{b.lookup}_value" for b in payload.binds}
        changed |= {"statecode", "statuscode"} if state_columns else set()
        self._save(table, row)
        self._emit("Update", table, row[table.key], pre, user_id, changed=changed)
        self._recalculate_parent(table, row, user_id)
        return self.store.get(table.logical, row[table.key]) or row

    def upsert(
        self,
        table: Table,
        ref: KeyRef,
        body: Any,
        *,
        user_id: str,
        if_match: str | None,
        if_none_match: str | None,
    ) -> tuple[Row, bool]:
        """PATCH semantics: update when the key exists, else create; returns (row, created).

        Raises:
            NotFoundError: ``If-Match: *`` and no row.
            PreconditionError: ``If-None-Match: *`` and the row exists, or ETag mismatch.
        """
        with self.store.transaction():
            exists = self.find(table, ref) is not None
            if if_none_match == "*" and exists:
                raise PreconditionError(ALREADY_EXISTS)
            if exists:
                return self.update(table, ref, body, user_id=user_id, if_match=if_match), False
            if if_match is not None:
                raise not_found(table, ref)
            return self.create(table, body, user_id=user_id, key=ref), True

    def delete(self, table: Table, ref: KeyRef, *, user_id: str, if_match: str | None) -> None:
        """Delete a row and its child lines.

        Raises:
            NotFoundError: no such row.
            PreconditionError: ETag mismatch.
        """
        with self.store.transaction():
            row = self.require(table, ref)
            if if_match not in (None, "*") and if_match != etag_of(row):
                raise PreconditionError(ETAG_MISMATCH)
            rules.guard_closed_parent(self.store, table, row)
            for collection in table.collections.values():
                child_table = self.catalogue.table(collection.table)
                column = f"_{collection.lookup}_value"
                for child in list(self.store.related(child_table.logical, column, row[table.key])):
                    owned = child.get(f"_{collection.lookup}_value") == row[table.key]
                    if owned and child_table.logical in computed.LINE_PARENTS:
                        self.store.delete(child_table.logical, child[child_table.key])
            self.store.delete(table.logical, row[table.key])
            self.events.append(
                WriteEvent("Delete", table, row[table.key], {}, dict(row), None, user_id)
            )
            self._recalculate_parent(table, row, user_id)

    # rules --------------------------------------------------------------------------------
    def _apply_binds(self, table: Table, row: Row, binds: list[Bind], *, creating: bool) -> None:
        for bind in binds:
            lookup = table.lookups[bind.lookup]
            if not (lookup.create if creating else lookup.update):
                raise not_writable(table, lookup.name, creating=creating)
            if bind.ref is None or bind.target is None:
                row[lookup.value_column] = None
                row[f"~{lookup.name}"] = None
                continue
            target = self.require(bind.target, bind.ref)
            row[lookup.value_column] = target[bind.target.key]
            row[f"~{lookup.name}"] = bind.target.logical

    def _save(self, table: Table, row: Row) -> None:
        rules.guard_closed_parent(self.store, table, row)
        computed.derive_row(self.store, table, row)
        line_table = {"salesorder": "salesorderdetail", "invoice": "invoicedetail"}.get(
            table.logical
        )
        if line_table is not None:
            computed.header_totals(self.store, table, row, line_table)
        rules.check_unique_keys(self.store, table, row)
        self.store.put(table.logical, row[table.key], row)

    def _recalculate_parent(self, table: Table, row: Row, user_id: str) -> None:
        parent_logical = computed.LINE_PARENTS.get(table.logical)
        if parent_logical is None:
            return
        parent_table = self.catalogue.table(parent_logical)
        parent = self.store.get(parent_logical, row.get(f"_{parent_logical}id_value") or "")
        if parent is None:
            return
        before = {k: parent.get(k) for k in parent if k.startswith("total")}
        computed.header_totals(self.store, parent_table, parent, table.logical)
        changed = {k for k in before if parent.get(k) != before[k]}
        if changed:
            pre = self.store.get(parent_logical, parent[parent_table.key])
            self.store.put(parent_logical, parent[parent_table.key], parent)
            self._emit(
                "Update", parent_table, parent[parent_table.key], pre, user_id, changed=changed
            )

    def _emit(
        self,
        message: str,
        table: Table,
        row_id: str,
        pre: Row | None,
        user_id: str,
        *,
        changed: set[str] | None,
    ) -> None:
        post = self.store.get(table.logical, row_id) or {}
        if changed is None:
            target = {k: v for k, v in post.items() if v is not None}
        else:
            keep = changed | {table.key, "modifiedon", "_modifiedby_value"}
            target = {k: post.get(k) for k in keep}
        self.events.append(WriteEvent(message, table, row_id, target, pre, post, user_id))
