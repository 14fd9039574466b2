"""Errors raised by the Kafka runtime.

IsthmusKafkaError
├── CatalogueError          the topic catalogue file is unreadable or an entry is invalid
└── ProvisioningError       the cluster cannot be brought in line with the catalogue
    └── DestructiveChangeError  the catalogue asks for a change that would lose data
"""

from __future__ import annotations


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
