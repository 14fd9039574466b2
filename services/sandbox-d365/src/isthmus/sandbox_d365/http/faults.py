"""Dataverse fault rules: latency, errors, 429s, expired tokens, dropped links, lost answers."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from pydantic import Field

from isthmus.sandbox_kit.faults import FaultPolicy, FaultRule, FaultRules

FaultKind = Literal["latency", "status", "throttle", "token_expired", "drop", "lost_answer"]
POLICY = FaultPolicy(latency_stacks=True, exhausted="removed")
"""Latency rules add up; a rule that reached ``times`` is deactivated."""


class FaultSpec(FaultRule):
    """An admin request for a fault; ``path`` is a glob such as ``/api/data/v9.2/salesorders*``.

    ``times`` limits the hits, ``status``/``code``/``message`` shape a ``status`` answer,
    ``retry_after`` sets ``Retry-After``.
    """

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    kind: FaultKind
    latency_ms: int = Field(default=0, ge=0)
    times: int | None = Field(default=None, ge=1)
    status: int = Field(default=503, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    code: str | None = None
    message: str | None = None

    def limit(self) -> int | None:
        """The ``times`` given."""
        return self.times

    def describe(self) -> dict[str, Any]:
        """The rule as the admin API shows it."""
        return self.model_dump()


class Faults(FaultRules[FaultSpec]):
    """The active Dataverse rules."""

    def __init__(self) -> None:
        super().__init__(policy=POLICY)
