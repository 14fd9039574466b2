"""A business partner change as the few OData writes it needs: only the listed fields (pure).

The command's ``header.writeFields`` names the target fields the change writes
(``OrganizationBPName1``, ``to_BusinessPartnerAddress.PhoneNumber``,
``to_CustomerSalesArea.Currency``); None writes every field, an empty list nothing. Each group
goes to its own entity: partner fields to ``A_BusinessPartner``, address fields to the first
``A_BusinessPartnerAddress``, phone and e-mail to the address's ``A_AddressPhoneNumber`` and
``A_AddressEmailAddress``, sales-area fields to ``A_CustomerSalesArea``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from isthmus.sap_sink.core.payloads import v2_value

ADDRESS = "to_BusinessPartnerAddress"
SALES_AREA = "to_CustomerSalesArea"
PHONE = "PhoneNumber"
EMAIL = "EmailAddress"
# never changed by a PATCH: keys, and what only a create sets
_FIXED = frozenset(
    {"header", "BusinessPartner", "BusinessPartnerCategory", "to_BusinessPartnerRole"}
)
_ADDRESS_FIXED = frozenset({"AddressID"})
_AREA_KEYS = ("SalesOrganization", "DistributionChannel", "Division")


@dataclass(frozen=True)
class PartnerChanges:
    """What one change writes, entity by entity, and the state fields it leaves behind."""

    partner: dict[str, Any] = field(default_factory=dict)
    address: dict[str, Any] = field(default_factory=dict)
    phone: str | None = None
    email: str | None = None
    sales_area: dict[str, Any] = field(default_factory=dict)
    sales_area_key: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """True when the change writes nothing."""
        return not (
            self.partner
            or self.address
            or self.phone is not None
            or self.email is not None
            or self.sales_area
        )

    def state_fields(self) -> dict[str, str | None]:
        """The written values, named as the ingress names the fields of a read partner."""
        fields = {name: _text(value) for name, value in self.partner.items()}
        address = {**self.address}
        if self.phone is not None:
            address[PHONE] = self.phone
        if self.email is not None:
            address[EMAIL] = self.email
        fields.update({f"{ADDRESS}[0].{name}": _text(value) for name, value in address.items()})
        return fields


def write_list(command: Mapping[str, Any]) -> list[str] | None:
    """``header.writeFields`` of a command (None: write everything)."""
    header = command.get("header") or {}
    fields = header.get("writeFields")
    return None if fields is None else list(fields)


def partner_changes(command: Mapping[str, Any], fields: Iterable[str] | None) -> PartnerChanges:
    """The writes of a change of an existing partner: the listed fields (None: all of them)."""
    wanted = None if fields is None else set(fields)
    address = _first(command.get(ADDRESS))
    area = _first(command.get(SALES_AREA))
    address_fields = _pick(address, ADDRESS, wanted, skip=_ADDRESS_FIXED | {PHONE, EMAIL})
    return PartnerChanges(
        partner={
            name: v2_value(value)
            for name, value in command.items()
            if name not in _FIXED and not isinstance(value, list) and _wanted(name, wanted, value)
        },
        address=address_fields,
        phone=_communication(address, PHONE, wanted),
        email=_communication(address, EMAIL, wanted),
        sales_area=_pick(area, SALES_AREA, wanted, skip=frozenset(_AREA_KEYS)),
        sales_area_key={k: str(area[k]) for k in _AREA_KEYS if area.get(k)},
    )


def _wanted(name: str, wanted: set[str] | None, value: Any) -> bool:
    if wanted is None:  # everything: a value to set (nulls would clear what S/4 derived)
        return value is not None
    return name in wanted


def _pick(
    item: Mapping[str, Any], prefix: str, wanted: set[str] | None, *, skip: frozenset[str]
) -> dict[str, Any]:
    return {
        name: v2_value(value) if value is not None else ""
        for name, value in item.items()
        if name not in skip and _wanted(f"{prefix}.{name}", wanted, value)
    }


def _communication(item: Mapping[str, Any], name: str, wanted: set[str] | None) -> str | None:
    if not _wanted(f"{ADDRESS}.{name}", wanted, item.get(name)):
        return None
    return str(item.get(name) or "")


def _first(value: Any) -> Mapping[str, Any]:
    items = results(value)
    return items[0] if items else {}


def results(value: Any) -> list[dict[str, Any]]:
    """A to-many navigation as a list (OData V2 JSON wraps it in ``{"results": [...]}``)."""
    if isinstance(value, Mapping):
        value = value.get("results")
    return [item for item in value or [] if isinstance(item, dict)]


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
