"""Flows writing to S/4HANA limit every text field to the MaxLength of the SAP $metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from isthmus.mapping import load_flows
from isthmus.mapping.suggestions import mapped_fields

REPO = Path(__file__).resolve().parents[3]
METADATA = REPO / "services" / "sandbox-s4" / "src" / "isthmus" / "sandbox_s4" / "metadata"
FLOWS = load_flows(REPO / "flows")
# Target path prefix -> (EDMX file, entity types whose properties it carries).
TARGETS: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "d365-salesorder-to-s4": {
        "": ("API_SALES_ORDER_SRV.edmx", ("A_SalesOrderType",)),
        "to_Item[*].": ("API_SALES_ORDER_SRV.edmx", ("A_SalesOrderItemType",)),
        "to_Partner[*].": ("API_SALES_ORDER_SRV.edmx", ("A_SalesOrderHeaderPartnerType",)),
    },
    "d365-account-to-s4-businesspartner": {
        "": ("API_BUSINESS_PARTNER.edmx", ("A_BusinessPartnerType",)),
        "to_BusinessPartnerAddress[*].": (
            "API_BUSINESS_PARTNER.edmx",
            (
                "A_BusinessPartnerAddressType",
                "A_AddressEmailAddressType",
                "A_AddressPhoneNumberType",
            ),
        ),
        "to_CustomerSalesArea[*].": ("API_BUSINESS_PARTNER.edmx", ("A_CustomerSalesAreaType",)),
    },
    "d365-shipment-to-s4-delivery": {
        "": ("API_OUTBOUND_DELIVERY_SRV.edmx", ("A_OutbDeliveryHeaderType",)),
        "to_DeliveryDocumentItem[*].": (
            "API_OUTBOUND_DELIVERY_SRV.edmx",
            ("A_OutbDeliveryItemType",),
        ),
    },
}


def max_lengths(edmx: str, types: tuple[str, ...]) -> dict[str, int]:
    lengths: dict[str, int] = {}
    root = ET.parse(METADATA / edmx).getroot()  # noqa: S314 - trusted files of this repository
    for entity in root.iter():
        if entity.tag.endswith("EntityType") and entity.get("Name") in types:
            for prop in entity:
                length = prop.get("MaxLength")
                if prop.tag.endswith("Property") and prop.get("Type") == "Edm.String" and length:
                    lengths[str(prop.get("Name"))] = int(length)
    return lengths


def declared(flow_id: str) -> dict[str, int]:
    return {
        rule.path: int(rule.declared["max_length"])
        for rule in FLOWS[flow_id].rules
        if "max_length" in rule.declared
    }


@pytest.mark.parametrize("flow_id", sorted(TARGETS))
def test_every_mapped_sap_text_field_has_the_metadata_max_length(flow_id: str) -> None:
    rules = declared(flow_id)
    checked = 0
    for path in sorted(mapped_fields(FLOWS[flow_id])):
        prefix = next(
            (p for p in sorted(TARGETS[flow_id], key=len, reverse=True) if path.startswith(p)), None
        )
        if prefix is None or "." in path[len(prefix) :]:
            continue
        limits = max_lengths(*TARGETS[flow_id][prefix])
        name = path[len(prefix) :]
        if name in limits:
            assert rules.get(path) == limits[name], (
                f"{flow_id}: {path} needs max_length {limits[name]}"
            )
            checked += 1
    assert checked >= 3
