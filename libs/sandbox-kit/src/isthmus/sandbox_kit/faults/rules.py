"""Fault rules: the part every emulator shares (which requests, how often, how many, delay)."""

from __future__ import annotations

import fnmatch
import random
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

LATENCY = "latency"


class FaultRule(BaseModel):
    """One rule's common fields; a sandbox subclasses it with its ``kind`` values and extras.

    ``path`` is an fnmatch glob on the URL path, ``method`` (any when unset) is compared
    case-insensitively, ``rate`` is the share of matching requests hit, ``latency_ms`` delays
    the answer, ``gateway_status`` is what a ``lost_answer`` fault answers instead of the
    application (none: the connection closes), ``hits`` counts the requests the rule hit.
    """

    id: str
    kind: str
    path: str = "*"
    method: str | None = None
    rate: float = Field(default=1.0, ge=0.0, le=1.0)
    latency_ms: int = 0
    gateway_status: int | None = Field(default=None, ge=500, le=599)
    hits: int = 0

    def limit(self) -> int | None:
        """How many requests the rule hits at most (None: no limit)."""
        return None

    def wants_body(self) -> bool:
        """Whether matching needs the request body (which must then be read first)."""
        return False

    def matches_body(self, body: bytes) -> bool:
        """Whether the rule applies to a request with this body."""
        return True

    def applies(self, *, method: str, path: str) -> bool:
        """Whether method and path are the rule's."""
        if self.method and self.method.upper() != method.upper():
            return False
        return fnmatch.fnmatchcase(path, self.path)


@dataclass(frozen=True)
class FaultPolicy:
    """How an emulator's rules combine.

    Attributes:
        latency_stacks: True: ``latency`` rules add up and do not stop matching; the first
            other rule that fires is the one applied (its own ``latency_ms`` added too).
            False: the first rule that fires, whatever its kind, is the only one applied.
        exhausted: ``removed``: a rule that reached its limit is deactivated; ``kept``: it stays
            listed with its hits and no longer fires.
    """

    latency_stacks: bool
    exhausted: Literal["removed", "kept"]


R = TypeVar("R", bound=FaultRule)


@dataclass(frozen=True)
class FaultMatch(Generic[R]):
    """What fires for one request: total delay and the rule to apply (None: the app answers)."""

    latency_ms: int
    rule: R | None


class FaultRules(Generic[R]):
    """The active rules, matched in insertion order under a policy."""

    def __init__(self, *, policy: FaultPolicy, seed: int | None = None) -> None:
        self.rules: list[R] = []
        self.policy = policy
        self._random = random.Random(seed)  # noqa: S311 - fault sampling, not security

    def add(self, rule: R) -> R:
        """Activate a rule."""
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        """Deactivate one rule; whether it existed."""
        before = len(self.rules)
        self.rules = [r for r in self.rules if r.id != rule_id]
        return len(self.rules) != before

    def clear(self) -> None:
        """Deactivate every rule."""
        self.rules.clear()

    def wants_body(self, *, method: str, path: str) -> bool:
        """Whether a rule for this request looks into its body."""
        return any(r.wants_body() and r.applies(method=method, path=path) for r in self.rules)

    def match(self, *, method: str, path: str, body: bytes = b"") -> FaultMatch[R]:
        """The rules that fire for this request (their hits counted)."""
        stacks = self.policy.latency_stacks
        latency = 0
        chosen: R | None = None
        for rule in list(self.rules):
            if not rule.applies(method=method, path=path) or not rule.matches_body(body):
                continue
            if chosen is not None and rule.kind != LATENCY:
                continue
            limit = rule.limit()
            if self.policy.exhausted == "kept" and limit is not None and rule.hits >= limit:
                continue
            if self._random.random() >= rule.rate:
                continue
            rule.hits += 1
            if self.policy.exhausted == "removed" and limit is not None and rule.hits >= limit:
                self.rules.remove(rule)
            latency += rule.latency_ms
            if not (stacks and rule.kind == LATENCY):
                chosen = rule
            if not stacks:
                break
        return FaultMatch(latency, chosen)
