"""Fault injection rules: latency, errors, 429s, expired tokens, dropped links, lost answers."""

from __future__ import annotations

import fnmatch
import random
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

FaultKind = Literal["latency", "status", "throttle", "token_expired", "drop", "lost_answer"]


class FaultSpec(BaseModel):
    """An admin request for a fault; ``path`` is a glob such as ``/api/data/v9.2/salesorders*``."""

    kind: FaultKind
    path: str = "*"
    method: str | None = None
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    times: int | None = Field(default=None, ge=1)
    latency_ms: int = Field(default=0, ge=0)
    status: int = Field(default=503, ge=400, le=599)
    retry_after: int | None = Field(default=None, ge=0)
    code: str | None = None
    message: str | None = None
    gateway_status: int | None = Field(
        default=None,
        ge=500,
        le=599,
        description="lost_answer: the front end's answer; none closes the connection",
    )


@dataclass
class FaultRule:
    """A live rule with its remaining count."""

    spec: FaultSpec
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    hits: int = 0

    def describe(self) -> dict[str, Any]:
        """The rule as the admin API shows it."""
        return {"id": self.id, "hits": self.hits, **self.spec.model_dump()}


class Faults:
    """The active rules; matched in insertion order."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._random = random.Random()  # noqa: S311 - fault sampling, not security

    def add(self, spec: FaultSpec) -> FaultRule:
        """Activate a rule."""
        rule = FaultRule(spec)
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        """Deactivate a rule; False if unknown."""
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        """Deactivate every rule."""
        self.rules.clear()

    def match(self, method: str, path: str) -> tuple[int, FaultRule | None]:
        """Total injected latency and the first terminal rule that fires for this request."""
        latency = 0
        terminal: FaultRule | None = None
        for rule in list(self.rules):
            spec = rule.spec
            if spec.method is not None and spec.method.upper() != method:
                continue
            if not fnmatch.fnmatchcase(path, spec.path):
                continue
            if terminal is not None and spec.kind != "latency":
                continue
            if self._random.random() >= spec.rate:
                continue
            rule.hits += 1
            if spec.times is not None and rule.hits >= spec.times:
                self.rules.remove(rule)
            if spec.kind == "latency":
                latency += spec.latency_ms
            else:
                terminal = rule
            latency += spec.latency_ms if spec.kind != "latency" else 0
        return latency, terminal
