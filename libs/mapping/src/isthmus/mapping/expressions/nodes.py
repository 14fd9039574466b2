"""AST nodes of the expression language (immutable, with the column they start at)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Node:
    """Base of every node."""

    column: int

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return ()


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number (int when written without a fraction, else Decimal), string, boolean or null."""

    value: int | Decimal | str | bool | None


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """`$` (current item), `$$` (root record) or a named variable such as `$index`."""

    name: str


@dataclass(frozen=True, slots=True)
class Field(Node):
    """A field of the current item, or of `base` when given (`a.b`)."""

    base: Node | None
    name: str

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return () if self.base is None else (self.base,)


@dataclass(frozen=True, slots=True)
class Index(Node):
    """`base[expr]`: a list position (negative counts from the end)."""

    base: Node
    index: Node

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return (self.base, self.index)


@dataclass(frozen=True, slots=True)
class Each(Node):
    """`base[*]`: every element of a list (a single value becomes a one-element list)."""

    base: Node

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return (self.base,)


@dataclass(frozen=True, slots=True)
class ListLiteral(Node):
    """`[a, b, c]`."""

    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return self.items


@dataclass(frozen=True, slots=True)
class Unary(Node):
    """`-x` or `not x`."""

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return (self.operand,)


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic, comparison, concatenation (`&`), `and`, `or`, `in`."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return (self.left, self.right)


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    """`cond ? a : b` and `if(cond, a, b)`: only the chosen branch is evaluated."""

    condition: Node
    then: Node
    otherwise: Node

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return (self.condition, self.then, self.otherwise)


@dataclass(frozen=True, slots=True)
class Call(Node):
    """A function call `name(args...)`."""

    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        """The nodes directly below this one."""
        return self.args
