"""The outcome of mapping one record: a target record or the list of violations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from isthmus.mapping.errors import ValidationFailedError


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (target field path), which rule, the offending value, why."""

    field: str
    rule: str
    value: Any
    message: str


@dataclass(frozen=True, slots=True)
class Result:
    """Mapping outcome; `target` is None exactly when `violations` is not empty."""

    flow_id: str
    flow_version: int
    target: dict[str, Any] | None
    violations: tuple[Violation, ...] = ()
    withheld: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the record mapped and every rule held."""
        return not self.violations

    def unwrap(self) -> dict[str, Any]:
        """Return the target record.

        Raises:
            ValidationFailedError: with every violation when the record is invalid.
        """
        if self.target is None or self.violations:
            raise ValidationFailedError(flow_id=self.flow_id, violations=self.violations)
        return self.target
