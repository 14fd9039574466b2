"""Errors raised by the Kafka runtime.

IsthmusKafkaError
├── CatalogueError          the topic catalogue file is unreadable or an entry is invalid
├── ProvisioningError       the cluster cannot be brought in line with the catalogue
│   └── DestructiveChangeError  the catalogue asks for a change that would lose data
├── ProcessingError         one record could not be processed; the class decides its route
│   ├── RetryableError      transient (timeout, 429, 5xx, unavailable): back off, retry topic
│   ├── InvalidRecordError  the record itself is bad (undecodable, unknown schema, fails
│   │                       validation, 4xx): dead-letter queue, then continue
│   └── FatalError          a bug or broken state: stop cleanly, exit nonzero
├── FencedError             another instance took over this transactional.id: stop, rebuild
└── ReplayError             a DLQ replay could not be carried out (bad selection, no broker)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any


class IsthmusKafkaError(Exception):
    """Root of every error raised by ``isthmus.kafka``."""


class CatalogueError(IsthmusKafkaError):
    """The topic catalogue is invalid; the message names the file and the entry."""


class ProvisioningError(IsthmusKafkaError):
    """The cluster could not be brought in line with the catalogue."""


class DestructiveChangeError(ProvisioningError):
    """The catalogue differs from the cluster in a way that cannot be applied without data loss.

    Attributes:
        problems: one human-readable line per refused change.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "refusing destructive topic changes; nothing was changed:\n  - "
            + "\n  - ".join(problems)
        )


class ErrorClass(StrEnum):
    """The three kinds of processing failure; each has its own route (architecture page)."""

    RETRYABLE = "retryable"
    INVALID = "invalid"
    FATAL = "fatal"


class Stage(StrEnum):
    """Where in the loop a record failed."""

    DECODE = "decode"
    HANDLE = "handle"
    ENCODE = "encode"
    PRODUCE = "produce"


class ProcessingError(IsthmusKafkaError):
    """One record failed; carries where it came from so logs and DLQ headers can say so.

    Handlers raise a subclass without coordinates; the loop fills them in with ``locate``.

    Attributes:
        error_class: which route the record takes.
        topic, partition, offset, key: the source record, when known.
        stage: the loop stage that failed, when known.
    """

    error_class: ErrorClass = ErrorClass.FATAL

    def __init__(
        self,
        message: str,
        *,
        topic: str | None = None,
        partition: int | None = None,
        offset: int | None = None,
        key: bytes | None = None,
        stage: Stage | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.stage = stage

    def locate(
        self, *, topic: str, partition: int, offset: int, key: bytes | None, stage: Stage
    ) -> ProcessingError:
        """Fill in the source coordinates and stage where they are still unknown; returns self."""
        self.topic = self.topic or topic
        self.partition = partition if self.partition is None else self.partition
        self.offset = offset if self.offset is None else self.offset
        self.key = self.key if self.key is not None else key
        self.stage = self.stage or stage
        return self

    def __str__(self) -> str:
        where = (
            f" [{self.topic}/{self.partition}@{self.offset} stage={self.stage}]"
            if self.topic
            else ""
        )
        return f"{self.message}{where}"


class RetryableError(ProcessingError):
    """A transient failure: the same record may succeed later.

    ``awaits`` names what it waits for when that is known: the keys of a compacted table (an
    ``xref.ids`` link, say) whose arrival makes it due at once (``isthmus.kafka.waits``).
    """

    error_class = ErrorClass.RETRYABLE

    def __init__(self, message: str, *, awaits: Sequence[str] = (), **where: Any) -> None:
        super().__init__(message, **where)
        self.awaits = tuple(awaits)


class InvalidRecordError(ProcessingError):
    """The record can never succeed as it is; it goes to the DLQ."""

    error_class = ErrorClass.INVALID


class FatalError(ProcessingError):
    """The process cannot go on safely; the loop stops and exits nonzero."""

    error_class = ErrorClass.FATAL


class FencedError(IsthmusKafkaError):
    """A newer producer with the same ``transactional.id`` fenced this one off."""


class ReplayError(IsthmusKafkaError):
    """A DLQ replay could not be carried out; nothing after the failing record was moved."""
