"""The ``$filter`` syntax tree both dialects parse into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant and its literal kind (string, number, bool, null, guid, datetime, ...)."""

    value: Any
    kind: str


@dataclass(frozen=True, slots=True)
class Prop:
    """A property, possibly through navigations: ``('primarycontactid', 'fullname')``."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        """The path as written, its steps joined by ``/``."""
        return "/".join(self.path)


@dataclass(frozen=True, slots=True)
class _Binary:
    """An operator between two operands."""

    op: str
    left: Node
    right: Node


class Compare(_Binary):
    """``left op right`` with op in eq/ne/gt/ge/lt/le."""

    __slots__ = ()


class Logical(_Binary):
    """``left and right`` / ``left or right``."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Not:
    """``not operand``."""

    operand: Node


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; ``named`` holds ``Name=value`` parameters (V4 query functions)."""

    name: str
    args: tuple[Node, ...]
    named: tuple[tuple[str, Node], ...] = ()


Node = Literal | Prop | Compare | Logical | Not | Call
