"""Changed-fields-only writes: which target fields one source change must write, and which not.

A master-data flow (one with ``ownership:``) writes, for a change, only the target fields whose
expressions read a changed source field, and never a field the TARGET system owns. ``shared``
fields and fields the source owns are written whenever they changed at the source, so the last
change in event order wins. A create writes every mapped field the target does not own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.mapping.dependencies import covers, field_reads, normalise_path

SHARED = "shared"
COMMAND_ONLY = frozenset({"header"})


@dataclass(frozen=True, slots=True)
class WritePlan:
    """Target field → source paths it reads, and who owns each target field.

    Attributes:
        reads: leaf target path (``to_BusinessPartnerAddress.PhoneNumber``) → source paths.
        source_system: the system the flow reads (``d365`` or ``s4``).
        target_system: the system the flow writes.
        owners: normalised target path (field or subtree) → owning system or ``shared``.
        default_owner: owner of every field not named in ``owners``.
    """

    reads: Mapping[str, frozenset[str]]
    source_system: str
    target_system: str
    owners: Mapping[str, str]
    default_owner: str = SHARED

    def owner(self, target: str) -> str:
        """The owner of one target path: the most specific ``owners`` entry, else the default."""
        path = normalise_path(target)
        while True:
            if path in self.owners:
                return self.owners[path]
            if "." not in path:
                return self.default_owner
            path = path.rsplit(".", 1)[0]

    def target_owned(self, target: str) -> bool:
        """True when the target system owns the field: this flow never writes it."""
        return self.owner(target) == self.target_system

    def writable(self) -> tuple[str, ...]:
        """Every data field the flow may write (command-only fields and target-owned left out)."""
        return tuple(
            path
            for path in self.reads
            if path.split(".", 1)[0] not in COMMAND_ONLY and not self.target_owned(path)
        )

    def fields_for(self, changed: Iterable[str]) -> tuple[str, ...]:
        """The target fields one change writes: they read a changed path and are not target-owned.

        ``changed`` are source paths as the source names them (``to_X[0].Y`` is ``to_X.Y``).
        A field that reads nothing from the record (a constant) is never written by a change.
        """
        paths = {normalise_path(path) for path in changed}
        return tuple(
            target
            for target in self.writable()
            if any(covers(read, path) for read in self.reads[target] for path in paths)
        )

    def withhold(self, target: Mapping[str, Any]) -> dict[str, Any]:
        """The target without the values of nested fields the target system owns.

        The engine already leaves out top-level target-owned fields (``Result.withheld``);
        this clears the nested ones (``to_CustomerSalesArea.CustomerPaymentTerms``), so not
        even a create writes them.
        """
        owned = [path for path in self.reads if "." in path and self.target_owned(path)]
        result = dict(target)
        for path in owned:
            _clear(result, path.split("."))
        return result


def _clear(record: dict[str, Any], names: list[str]) -> None:
    head, rest = names[0], names[1:]
    if head not in record:
        return
    if not rest:
        record[head] = None
        return
    value = record[head]
    if isinstance(value, dict):
        record[head] = child = dict(value)
        _clear(child, rest)
    elif isinstance(value, list):
        record[head] = items = [dict(item) if isinstance(item, dict) else item for item in value]
        for item in items:
            if isinstance(item, dict):
                _clear(item, rest)


def plan_writes(document: Mapping[str, Any]) -> WritePlan | None:
    """The write plan of a flow document, or None when it declares no ``ownership``.

    Raises:
        ExpressionSyntaxError: an expression of the mapping does not parse.
    """
    ownership = document.get("ownership")
    if ownership is None:
        return None
    context = document.get("context")
    return WritePlan(
        reads=field_reads(document["mapping"], context=context),
        source_system=document["trigger"]["system"],
        target_system=document["target"]["system"],
        owners={normalise_path(name): owner for name, owner in ownership.get("fields", {}).items()},
        default_owner=ownership.get("default", SHARED),
    )
