"""What an executor is given and returns: commands, successes, and the executor port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from opentelemetry.trace import Span

from isthmus.kafka.records import Record
from isthmus.sink.errors import CommandFailedError


@dataclass(frozen=True)
class Command:
    """One decoded command with where it came from.

    Attributes:
        record: the decoded Kafka record (``topic`` is the command topic, also after a retry).
        entity: the entity of the command topic (``salesorder`` of ``s4.salesorder.commands``).
        origin: ``topic/partition/offset`` of the source record: its identity across retries.
        first_failure: when the command first failed, if it did before.
        raw_value: the record's bytes (DLQ copies and payload digests).
    """

    record: Record[str, dict[str, Any]]
    entity: str
    origin: str
    raw_value: bytes | None
    first_failure: datetime | None = None
    span: Span | None = field(default=None, compare=False)
    """The CONSUMER ``process`` span of this command (executors make it the parent of calls)."""

    @property
    def key(self) -> str:
        """The business key (the Kafka key)."""
        return self.record.key

    @property
    def value(self) -> dict[str, Any]:
        """The decoded command."""
        return self.record.value

    @property
    def header(self) -> dict[str, Any]:
        """The command's ``header`` (id, flow, idempotency key)."""
        header: dict[str, Any] = self.value.get("header") or {}
        return header


class ResultStatus(StrEnum):
    """The successful symbols of ``io.isthmus.common.CommandStatus``."""

    SUCCEEDED = "SUCCEEDED"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True)
class XrefLink:
    """One D365 id ⇄ S/4 id pair to publish to ``xref.ids``."""

    entity: str
    d365_id: str
    s4_id: str
    created_by: str


@dataclass(frozen=True)
class Success:
    """A command done at the target (created, changed, or found equal and left alone).

    Attributes:
        status: SUCCEEDED, or DUPLICATE when an equal record existed already.
        target_id: the primary id in the target.
        target_ids: further ids by field name.
        state_key: key of the record on ``state.<system>.<entity>`` (None: no state topic).
        state_fields: the written fields in normalised string form.
        version: the record's version in the target (ETag), when known.
        xref: id pairs to publish.
        message: the target's message, if any (e.g. ``sap-message`` text).
        http_status: status of the final call.
    """

    status: ResultStatus
    target_id: str | None
    target_ids: Mapping[str, str] = field(default_factory=dict)
    state_key: str | None = None
    state_fields: Mapping[str, str | None] = field(default_factory=dict)
    version: str | None = None
    xref: Sequence[XrefLink] = ()
    message: str | None = None
    http_status: int | None = None


Outcome = Success | CommandFailedError


class Executor(Protocol):
    """Turns commands into target calls; one per sink, built in its composition root."""

    system: str
    """``s4`` or ``d365``: the prefix of the command, result and state topics."""

    async def execute(self, commands: Sequence[Command]) -> list[Outcome]:
        """Execute commands with distinct keys (concurrently or batched); one outcome each.

        Failures are returned, not raised: each is a ``CommandFailedError``.
        """
        ...

    async def probe(self) -> None:
        """One cheap authenticated call; returns when the target answers.

        Raises:
            CommandFailedError: the target is still unavailable or refuses the credential.
        """
        ...

    async def aclose(self) -> None:
        """Close the clients."""
        ...
