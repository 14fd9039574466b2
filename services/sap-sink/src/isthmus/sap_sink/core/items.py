"""What a sales-order CHANGE does to the order's items: update, add, reject (pure).

The command carries the order's lines as the source has them now. A line is matched to an S/4
item by its item number (or, without one, by material among the unmatched items). A matched
item gets the fields that differ; an unmatched line is added (with its number, so a redelivery
finds it); an S/4 item the command no longer has is rejected with a reason for rejection, as
S/4 practice keeps cancelled lines on the document (deleting an item with subsequent documents
is refused, and rejection is what VA02 users do). Items S/4 generated below another item
(``HigherLevelItem``) are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from isthmus.sap_sink.core.payloads import v2_body, v2_value

_COMPARED = ("Material", "RequestedQuantityUnit")
REJECTION = "SalesDocumentRjcnReason"


@dataclass(frozen=True)
class ItemPlan:
    """Item writes of one CHANGE: fields per item number, new item bodies, items to reject."""

    updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    creates: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.updates or self.creates or self.rejects)


def plan_items(
    *,
    existing: Sequence[Mapping[str, Any]],
    wanted: Sequence[Mapping[str, Any]],
) -> ItemPlan:
    """Compare the order's items with the command's lines."""
    current = {_number(i["SalesOrderItem"]): i for i in existing if not i.get("HigherLevelItem")}
    unmatched = dict(current)
    plan = ItemPlan()
    for line in wanted:
        number = _number(line.get("SalesOrderItem"))
        item = unmatched.pop(number, None) if number else _by_material(unmatched, line)
        if item is None:
            plan.creates.append(v2_body(line))
            continue
        changes = _item_changes(item, line)
        if changes:
            plan.updates[_number(item["SalesOrderItem"])] = changes
    plan.rejects.extend(n for n, item in unmatched.items() if not item.get(REJECTION))
    return plan


def _by_material(
    unmatched: dict[str, Mapping[str, Any]], line: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    for number, item in unmatched.items():
        if item.get("Material") == line.get("Material"):
            return unmatched.pop(number)
    return None


def _item_changes(item: Mapping[str, Any], line: Mapping[str, Any]) -> dict[str, Any]:
    changes = {
        name: line[name]
        for name in _COMPARED
        if line.get(name) is not None and str(item.get(name, "")) != str(line[name])
    }
    wanted = line.get("RequestedQuantity")
    if wanted is not None and _decimal(item.get("RequestedQuantity")) != _decimal(wanted):
        changes["RequestedQuantity"] = v2_value(wanted)
    if item.get(REJECTION):
        changes[REJECTION] = ""  # the line is back in the source: un-reject it
    return changes


def _number(value: Any) -> str:
    text = str(value or "").strip()
    return text.lstrip("0") or text


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
