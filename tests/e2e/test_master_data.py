"""Customer master both ways: changes on both sides converge and nothing echoes back and forth."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from .conftest import RunningSystem

pytestmark = pytest.mark.e2e

CHANGES_PER_SIDE = 50
QUIET_S = 20.0
PARTNER_SRV = "API_BUSINESS_PARTNER"
# every tenth S/4 change also sets the payment terms (S/4 owns them); D365 choice per key
TERMS = ("NT45", "ZB10", "NT60", "NT45", "NT60")
CHOICE = {"NT30": 1, "ZB10": 2, "NT45": 3, "NT60": 4}


@pytest.mark.timeout(420)
def test_account_changes_on_both_sides_converge_without_echo_loops(system: RunningSystem) -> None:
    driver = system.driver
    accounts = driver.d365.rows(
        "accounts",
        select="accountid,isthmus_s4businesspartner,telephone1",
        filter_="isthmus_s4businesspartner ne null",
    )
    ours = [a for a in accounts if a["accountid"] in driver.ready_accounts]
    assert ours, "no linked demo customer"
    account = ours[0]["accountid"]
    partner = ours[0]["isthmus_s4businesspartner"]
    area = _sales_area(system, partner)
    before = _settled_writes(system)

    terms_set = 0
    for number in range(CHANGES_PER_SIDE):  # interleaved, so the two directions overlap
        phone = f"+1 650 555 {7000 + number:04d}"  # D365 owns the phone number
        driver.d365.update("accounts", account, {"telephone1": phone})
        if number % 10 == 9:  # S/4 owns the payment terms; saved together with a rename
            _set_payment_terms(system, area, TERMS[number // 10])
            terms_set += 1
        driver.s4.update_partner_name(partner=partner, name=f"Renamed in S4 {number}")
        time.sleep(0.2)
    final_name = f"Renamed in S4 {CHANGES_PER_SIDE - 1}"
    final_phone = f"+1 650 555 {7000 + CHANGES_PER_SIDE - 1:04d}"
    final_terms = CHOICE[TERMS[-1]]

    def converged() -> bool:
        row = driver.d365.rows(
            "accounts",
            select="accountid,name,paymenttermscode",
            filter_=f"accountid eq {account}",
        )[0]
        in_d365 = row["name"] == final_name and row["paymenttermscode"] == final_terms
        return in_d365 and _s4_phone(system, partner) == final_phone

    assert system.poll_until(converged, timeout_s=180), "the two sides did not converge"
    settled = _writes(system)
    time.sleep(QUIET_S)
    after = _writes(system)
    assert after == settled, f"writes went on after {QUIET_S} s quiet: {settled} -> {after}"
    assert _s4_name(system, partner) == final_name, "a D365 write overwrote the S/4 name"
    # the clerks' own changes are in the call logs too: 50 phones in D365; renames + terms in S/4
    clerks = {"d365": CHANGES_PER_SIDE, "s4": CHANGES_PER_SIDE + terms_set}
    by_sinks = {side: after[side] - before[side] - clerks[side] for side in after}
    print(
        f"\nE2E master data: {2 * CHANGES_PER_SIDE} changes -> {by_sinks['s4']} S/4 writes, "
        f"{by_sinks['d365']} D365 writes by the sinks; quiet after convergence"
    )
    # each change is written across at most once and never bounces back
    assert 0 < by_sinks["s4"] <= CHANGES_PER_SIDE, by_sinks
    assert 0 < by_sinks["d365"] <= CHANGES_PER_SIDE, by_sinks


def _writes(system: RunningSystem) -> dict[str, int]:
    """Writes to partners in S/4 (any of their entities) and to accounts in Dataverse."""
    s4 = system.s4.admin
    s4_writes = [
        call
        for method in ("PATCH", "POST", "PUT", "MERGE", "DELETE")
        for call in s4.calls(method=method, path_contains=f"{PARTNER_SRV}/A_")
    ]
    d365_calls = system.d365.admin.calls(method="PATCH", path="/api/data/v9.2/accounts")
    batches = system.d365.admin.calls(method="POST", path="/api/data/v9.2/$batch")
    return {"s4": len(s4_writes), "d365": len(d365_calls) + len(batches)}


def _settled_writes(system: RunningSystem) -> dict[str, int]:
    """The write counts once the set-up's last writes are done (at most 30 s)."""
    last, deadline = _writes(system), time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(3)
        now = _writes(system)
        if now == last:
            return now
        last = now
    return last


def _s4(system: RunningSystem) -> httpx.Client:
    s4 = system.s4
    return httpx.Client(
        base_url=s4.service_url(PARTNER_SRV), verify=s4.ssl_context(), auth=s4.basic_auth
    )


def _partner(system: RunningSystem, partner: str, expand: str) -> dict[str, Any]:
    with _s4(system) as client:
        answer = client.get(
            f"A_BusinessPartner('{partner}')", params={"$expand": expand, "$format": "json"}
        )
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()["d"]
    return data


def _sales_area(system: RunningSystem, partner: str) -> dict[str, str]:
    """The key of the sales area the S/4 → D365 flow reads the payment terms from."""
    data = _partner(system, partner, "to_Customer/to_CustomerSalesArea")
    areas = data["to_Customer"]["to_CustomerSalesArea"]["results"]
    area = next(a for a in areas if a["SalesOrganization"] in ("1710", "1010"))
    names = ("Customer", "SalesOrganization", "DistributionChannel", "Division")
    return {name: area[name] for name in names}


def _set_payment_terms(system: RunningSystem, area: dict[str, str], terms: str) -> None:
    """A master-data clerk changes the customer's payment terms in its sales area."""
    key = ",".join(f"{name}='{value}'" for name, value in area.items())
    with _s4(system) as client:
        token = client.get("", headers={"X-CSRF-Token": "Fetch"}).headers["x-csrf-token"]
        client.patch(
            f"A_CustomerSalesArea({key})",
            json={"CustomerPaymentTerms": terms},
            headers={"X-CSRF-Token": token, "If-Match": "*"},
        ).raise_for_status()


def _s4_phone(system: RunningSystem, partner: str) -> str | None:
    data = _partner(system, partner, "to_BusinessPartnerAddress/to_PhoneNumber")
    addresses = data["to_BusinessPartnerAddress"]["results"]
    phones = addresses[0]["to_PhoneNumber"]["results"] if addresses else []
    return str(phones[0]["PhoneNumber"]) if phones else None


def _s4_name(system: RunningSystem, partner: str) -> str:
    return str(_partner(system, partner, "to_BusinessPartnerAddress")["OrganizationBPName1"])
