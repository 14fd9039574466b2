"""Exceptions of the mapping engine, one tree rooted at MappingEngineError.

```
MappingEngineError                 root of isthmus.mapping
├── FlowDefinitionError            a flow file or lookup table is broken (fatal for that version:
│   │                              the loader rejects it, the running version stays)
│   └── ExpressionSyntaxError      an expression does not parse (line, column, caret)
└── MappingError                   one record cannot be mapped (invalid: DLQ and continue)
    ├── EvaluationError            an operator or function got a value it cannot use
    │   └── ConversionError        a value cannot be converted (names the value and the type)
    ├── LookupMissError            a static table or xref has no entry and no declared default
    └── ValidationFailedError      the mapped target breaks rules; carries every violation
```

`Flow.apply` never raises the MappingError branch: it turns each into a violation of the Result.
Errors raised by a caller's LookupPort (e.g. a store being unavailable) pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from isthmus.mapping.result import Violation


class MappingEngineError(Exception):
    """Root of every error raised by isthmus.mapping."""


class FlowDefinitionError(MappingEngineError):
    """A flow file (or a table it uses) is invalid; the message names file, field and position."""

    def __init__(
        self,
        message: str,
        *,
        source: str = "<flow>",
        field: str | None = None,
        expression: str | None = None,
        column: int | None = None,
        line: int | None = None,
    ) -> None:
        self.reason = message
        self.source = source
        self.field = field
        self.expression = expression
        self.column = column
        self.line = line
        super().__init__(self._render())

    def at_line(self, line: int | None) -> FlowDefinitionError:
        """The same error, placed on a line of the flow file."""
        return type(self)(
            self.reason,
            source=self.source,
            field=self.field,
            expression=self.expression,
            column=self.column,
            line=line,
        )

    def _render(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.field is not None:
            where = f"{where}: {self.field}"
        text = f"{where}: {self.reason}"
        if self.expression is not None:
            text += f"\n    {self.expression}"
            if self.column is not None:
                text += "\n    " + " " * self.column + "^"
        return text


class ExpressionSyntaxError(FlowDefinitionError):
    """An expression is not valid in the expression language."""


class MappingError(MappingEngineError):
    """One record cannot be mapped; the record is invalid, the flow is fine."""


class EvaluationError(MappingError):
    """An operator or function was applied to a value of the wrong kind."""


class ConversionError(EvaluationError):
    """A value cannot be converted to the requested type."""

    def __init__(self, *, value: object, target_type: str, detail: str = "") -> None:
        self.value = value
        self.target_type = target_type
        suffix = f": {detail}" if detail else ""
        super().__init__(f"cannot convert {value!r} to {target_type}{suffix}")


class LookupMissError(MappingError):
    """A lookup found no entry and the flow declares no default; no value is invented."""

    def __init__(self, *, table: str, key: object) -> None:
        self.table = table
        self.key = key
        super().__init__(f"no entry for {key!r} in lookup {table!r}")


class ValidationFailedError(MappingError):
    """The mapped target breaks one or more rules; `violations` lists all of them."""

    def __init__(self, *, flow_id: str, violations: Sequence[Violation]) -> None:
        self.flow_id = flow_id
        self.violations = tuple(violations)
        lines = "; ".join(f"{v.field}: {v.message}" for v in self.violations)
        super().__init__(f"flow {flow_id}: {len(self.violations)} violation(s): {lines}")
