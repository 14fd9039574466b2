"""What the fault-matrix oracle reads: acknowledgements, applied effects, dead letters, lag.

The load generator appends one ``Acked`` per 2xx of the ingress to a ``Ledger``; the sandboxes'
applied-effects ledgers become ``Applied`` rows, the DLQ topics ``DeadLetter`` rows, and the
scenario lists the poison records it produced on purpose as ``Injected``. Each kind saves to
and loads from JSON lines, so a scenario's inputs can be kept next to its verdict and checked
again without running it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

_BYTES = "$b64"


@dataclass(frozen=True)
class Acked:
    """One event the ingress acknowledged (2xx) to the load generator."""

    event_id: str
    key: str
    seq: int


@dataclass(frozen=True)
class Applied:
    """One effect a target sandbox applied; ``effective=False`` is an idempotent no-op replay."""

    event_id: str
    key: str
    seq: int
    effective: bool
    request_id: str
    at: float


@dataclass(frozen=True)
class DeadLetter:
    """One record read back from a dead-letter topic, with its headers and original bytes."""

    event_id: str
    topic: str
    headers: dict[str, bytes]
    value: bytes | None


@dataclass(frozen=True)
class Injected:
    """One poison record the scenario produced on purpose, and the bytes its dead letter keeps.

    ``value`` is None when the injector does not know them (a business-invalid order becomes
    a command the transformer writes); the dead letter's bytes are then not compared.
    """

    event_id: str
    value: bytes | None


@dataclass(frozen=True)
class LagSample:
    """The consumer group's total lag at one moment (seconds on the scenario's clock)."""

    at: float
    lag: int


R = TypeVar("R", bound="DataclassInstance")


def _encode(value: object) -> object:
    # JSON has no bytes: they travel as one-key objects, which no field of the ledger can hold.
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, dict):
        return {name: _encode(item) for name, item in value.items()}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        return {name: _decode(item) for name, item in value.items()}
    return value


def save_lines(path: Path, rows: Iterable[DataclassInstance]) -> None:
    """Write ``rows`` to ``path`` as JSON lines, one object per row, bytes base64-encoded."""
    lines = [json.dumps(_encode(dataclasses.asdict(row)), sort_keys=True) for row in rows]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def load_lines(path: Path, kind: type[R]) -> list[R]:
    """Read the rows ``save_lines`` wrote, as instances of ``kind``.

    Raises:
        OSError: ``path`` cannot be read.
        ValueError: a line is not JSON (``json.JSONDecodeError``) or not a JSON object.
        TypeError: a line's fields are not those of ``kind``.
    """
    rows: list[R] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = _decode(json.loads(line))
        if not isinstance(fields, dict):
            raise ValueError(f"{path}:{number}: expected a JSON object")
        rows.append(kind(**fields))
    return rows


class Ledger:
    """The load generator's record of what the ingress acknowledged, safe to share by threads.

    ``next_seq`` hands out per-key sequence numbers from 1 whether or not the send is then
    acknowledged, so a refused send leaves a gap in its key's sequence, never a repeat.
    """

    def __init__(self, acked: Iterable[Acked] = ()) -> None:
        self._lock = threading.Lock()
        self._acked: list[Acked] = []
        self._seqs: dict[str, int] = {}
        for row in acked:
            self.record(row)

    def next_seq(self, key: str) -> int:
        """The next sequence number of ``key``: 1 for its first event, then one more each call."""
        with self._lock:
            seq = self._seqs.get(key, 0) + 1
            self._seqs[key] = seq
            return seq

    def record(self, acked: Acked) -> None:
        """Append one acknowledged event (the ingress answered 2xx)."""
        with self._lock:
            self._acked.append(acked)
            self._seqs[acked.key] = max(self._seqs.get(acked.key, 0), acked.seq)

    def acked(self) -> list[Acked]:
        """A copy of every acknowledged event, in the order they were recorded."""
        with self._lock:
            return list(self._acked)

    def __len__(self) -> int:
        with self._lock:
            return len(self._acked)

    def save(self, path: Path) -> None:
        """Write the acknowledged events to ``path`` as JSON lines."""
        save_lines(path, self.acked())

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """A ledger holding the events ``save`` wrote; ``next_seq`` continues after them.

        Raises:
            OSError: ``path`` cannot be read.
            ValueError: a line is not a JSON object.
            TypeError: a line is not an ``Acked``.
        """
        return cls(load_lines(path, Acked))
