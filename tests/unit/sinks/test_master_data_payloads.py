"""Partner and account changes: only the listed fields, entity by entity (pure)."""

from __future__ import annotations

from typing import Any

from isthmus.d365_sink.core.payloads import account
from isthmus.sap_sink.core.partner_changes import partner_changes, write_list


def _partner(fields: list[str] | None) -> dict[str, Any]:
    return {
        "header": {"writeFields": fields},
        "BusinessPartner": "1000001",
        "BusinessPartnerCategory": "2",
        "OrganizationBPName1": "Contoso",
        "OrganizationBPName2": None,
        "SearchTerm1": None,
        "BusinessPartnerIDByExtSystem": "A-1",
        "to_BusinessPartnerRole": [{"BusinessPartnerRole": "FLCU01"}],
        "to_BusinessPartnerAddress": [
            {"AddressID": None, "CityName": "Walldorf", "Country": "DE", "PhoneNumber": "+49 1"}
        ],
        "to_CustomerSalesArea": [
            {
                "SalesOrganization": "1010",
                "DistributionChannel": "10",
                "Division": "00",
                "Currency": "EUR",
            }
        ],
    }


def test_a_phone_change_is_the_phone_only() -> None:
    command = _partner(["to_BusinessPartnerAddress.PhoneNumber"])
    changes = partner_changes(command, write_list(command))
    assert (changes.partner, changes.address, changes.sales_area) == ({}, {}, {})
    assert changes.phone == "+49 1"
    assert changes.email is None
    assert changes.state_fields() == {"to_BusinessPartnerAddress[0].PhoneNumber": "+49 1"}


def test_a_listed_empty_field_is_cleared_and_an_empty_list_writes_nothing() -> None:
    changes = partner_changes(
        _partner(None), ["OrganizationBPName2", "to_CustomerSalesArea.Currency"]
    )
    assert changes.partner == {"OrganizationBPName2": None}
    assert changes.sales_area == {"Currency": "EUR"}
    assert changes.sales_area_key == {
        "SalesOrganization": "1010",
        "DistributionChannel": "10",
        "Division": "00",
    }
    assert partner_changes(_partner([]), []).empty


def test_without_a_list_every_set_field_is_written() -> None:
    changes = partner_changes(_partner(None), None)
    assert changes.partner == {
        "OrganizationBPName1": "Contoso",
        "BusinessPartnerIDByExtSystem": "A-1",
    }
    assert changes.address == {"CityName": "Walldorf", "Country": "DE"}
    assert changes.phone == "+49 1"


def _account(fields: list[str] | None, accountid: str | None = "b1") -> dict[str, Any]:
    return {
        "header": {"writeFields": fields},
        "action": "UPSERT",
        "isthmus_s4businesspartner": "1000001",
        "accountid": accountid,
        "name": "Contoso",
        "telephone1": None,
        "paymenttermscode": 3,
        "isocurrencycode": "EUR",
    }


def test_a_known_account_gets_the_listed_columns_only() -> None:
    write = account(_account(["paymenttermscode", "telephone1"]))
    assert (write.key, write.body, write.lookups) == (
        "b1",
        {"paymenttermscode": 3, "telephone1": None},
        (),
    )
    assert account(_account([])).body == {}
    assert account(_account(["isocurrencycode"])).lookups


def test_an_unknown_account_or_no_list_is_the_whole_upsert() -> None:
    assert account(_account(["paymenttermscode"], accountid=None)).body["name"] == "Contoso"
    assert account(_account(None)).body["name"] == "Contoso"
