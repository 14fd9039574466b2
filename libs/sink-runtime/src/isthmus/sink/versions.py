"""Skip what a newer version of the same record already wrote (the command's ``sourceVersion``).

At-least-once delivery replays: after a rebalance, an overrun of ``max.poll.interval.ms`` or a
commit that failed, a sink reads again commands it has already run. A create is recognised by
the target (find-before-create); a change would write its older values over newer ones, and
the target would go back in time until the newer command came round again. So the sink keeps,
per command topic, key and written field, the newest source version it applied:

- a command whose every field was written since by a newer version is done without a call
  (``DUPLICATE``, "superseded");
- a command some of whose fields were written by a newer version writes only the others
  (its ``header.writeFields`` narrowed);
- anything else runs as it is.

The fields are the command's ``header.writeFields``; a command without the list writes every
field and is skipped only after a newer command that also wrote every field. Versions compare
as integers (Dataverse's ``versionnumber``); a command without one, or with one that is not an
integer, is never skipped. The memory is the process's own and bounded (least recently used
keys are forgotten first); a restarted sink starts empty, so what it replays after a crash
(the records it had not committed, about one auto-commit interval) is not recognised.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from isthmus.sink.model import Command

EVERY_FIELD = "*"
"""The field name a command without ``writeFields`` is remembered under."""


@dataclass(frozen=True)
class Decision:
    """What to do with one command: run it (perhaps narrowed) or pass it as superseded."""

    command: Command
    superseded_by: int | None = None
    """The newer version that wrote every field of the command; None: run ``command``."""


def source_version(command: Command) -> int | None:
    """The command's ``header.idempotency.sourceVersion`` as an integer, None if it has none."""
    idempotency = command.header.get("idempotency")
    raw = idempotency.get("sourceVersion") if isinstance(idempotency, dict) else None
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


def _write_fields(command: Command) -> list[str] | None:
    fields = command.header.get("writeFields")
    return [str(f) for f in fields] if isinstance(fields, list) else None


class AppliedVersions:
    """The newest source version applied per (command topic, key, field)."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._by_key: OrderedDict[tuple[str, str], dict[str, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._by_key)

    def decide(self, command: Command) -> Decision:
        """Run ``command``, run it narrowed to the fields no newer version wrote, or skip it."""
        version = source_version(command)
        known = self._by_key.get((command.record.topic, command.key))
        if version is None or not known:
            return Decision(command)
        fields = _write_fields(command)
        every = known.get(EVERY_FIELD, -1)
        if fields is None:
            return Decision(command, superseded_by=every) if every > version else Decision(command)
        newer = {f: max(known.get(f, -1), every) for f in fields}
        stale = {f for f, seen in newer.items() if seen > version}
        if not stale:
            return Decision(command)
        if len(stale) == len(fields):
            return Decision(command, superseded_by=max(newer.values()))
        return Decision(_narrowed(command, [f for f in fields if f not in stale]))

    def applied(self, command: Command) -> None:
        """Remember that ``command`` was done at the target."""
        version = source_version(command)
        if version is None:
            return
        slot = (command.record.topic, command.key)
        known = self._by_key.setdefault(slot, {})
        self._by_key.move_to_end(slot)
        for name in _write_fields(command) or [EVERY_FIELD]:
            known[name] = max(known.get(name, version), version)
        while len(self._by_key) > self._max_keys:
            self._by_key.popitem(last=False)


def _narrowed(command: Command, fields: list[str]) -> Command:
    value: dict[str, Any] = dict(command.value)
    value["header"] = {**command.header, "writeFields": fields}
    return replace(command, record=replace(command.record, value=value))
