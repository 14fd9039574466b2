"""The evaluation scope a compiled expression reads: current item, root record, position, port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isthmus.mapping.lookups import LookupPort


class Scope:
    """What `$`, `$$`, `$index` and `$parent` mean while one record (or one item of it) maps."""

    __slots__ = ("current", "index", "lookups", "parent", "root")

    def __init__(  # positional on purpose: built once per record and per list item
        self,
        current: Any,
        root: Any,
        lookups: LookupPort,
        index: int = 0,
        parent: Scope | None = None,
    ) -> None:
        self.current = current
        self.root = root
        self.lookups = lookups
        self.index = index
        self.parent = parent

    def child(self, item: Any, index: int) -> Scope:
        """The scope of one element of a list being mapped item by item."""
        return Scope(item, self.root, self.lookups, index, self)


Evaluator = Callable[[Scope], Any]
