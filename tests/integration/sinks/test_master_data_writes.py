"""Both sinks write only a change's listed fields (header.writeFields); an empty list, nothing."""

from __future__ import annotations

from typing import Any

import pytest

from isthmus.testing.kafka import create_topics
from tests.integration.sinks.conftest import account_upsert
from tests.integration.sinks.test_sap_sink_partners import _partner, _send

pytestmark = pytest.mark.integration
ACCOUNT = "io.isthmus.d365.AccountUpsertCommand"
PHONE = "to_BusinessPartnerAddress.PhoneNumber"


def _listed(command: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
    return {**command, "header": {**command["header"], "writeFields": fields}}


def _partner_created(sap_sink: Any, kafka_broker: Any, sandbox: Any) -> tuple[str, str]:
    """A running sap-sink that created partner "Contoso"; its number and the results topic
    (the S/4 call log starts after the create)."""
    prefix = sap_sink.topics.prefix
    results_topic = f"{prefix}s4.businesspartner.results"
    create_topics(
        kafka_broker,
        f"{prefix}s4.businesspartner.commands",
        results_topic,
        f"{prefix}state.s4.businesspartner",
    )
    _send(sap_sink, _partner(number=None, name="Contoso"))
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_SINK__ENTITIES": '["businesspartner"]'})
    number = sap_sink.decode(results_topic, expected=1)[0][1]["targetId"]
    sandbox.admin.clear_calls()
    return str(number), results_topic


def test_sap_sink_writes_a_phone_change_and_nothing_else(sap_sink, kafka_broker, sandbox_s4_clean):
    number, results_topic = _partner_created(sap_sink, kafka_broker, sandbox_s4_clean)
    prefix = sap_sink.topics.prefix

    stale = _partner(number=number, name="A stale name from D365")
    stale["to_BusinessPartnerAddress"][0]["PhoneNumber"] = "+49 6227 7 47474"
    _send(sap_sink, _listed(stale, [PHONE]))
    _send(sap_sink, _listed(stale, []))

    statuses = [v["status"] for _, v in sap_sink.decode(results_topic, expected=3)]
    assert statuses[1:] == ["SUCCEEDED", "DUPLICATE"]
    writes = [
        (c["method"], c["path"].rsplit("/", 1)[-1].split("(")[0])
        for c in sandbox_s4_clean.admin.calls()
        if c["method"] in ("POST", "PATCH", "PUT", "MERGE", "DELETE")
    ]
    assert writes == [("POST", "A_AddressPhoneNumber")]
    state = sap_sink.decode(f"{prefix}state.s4.businesspartner", expected=2)
    assert state[-1][1]["fields"] == {
        "to_BusinessPartnerAddress[0].PhoneNumber": "+49 6227 7 47474"
    }
    partner = _read_partner(sandbox_s4_clean, number)
    assert partner["OrganizationBPName1"] == "Contoso"
    phones = partner["to_BusinessPartnerAddress"]["results"][0]["to_PhoneNumber"]["results"]
    assert [p["PhoneNumber"] for p in phones] == ["+49 6227 7 47474"]


def _version(command: dict[str, Any], version: int) -> dict[str, Any]:
    header = command["header"]
    idempotency = {**header["idempotency"], "sourceVersion": str(version)}
    return {**command, "header": {**header, "idempotency": idempotency}}


def test_sap_sink_skips_what_a_newer_version_of_the_record_already_wrote(
    sap_sink, kafka_broker, sandbox_s4_clean
):
    """A replayed change (at-least-once after a rebalance) must not take S/4 back in time:
    fields a newer source version wrote are left alone, the rest is still written."""
    number, results_topic = _partner_created(sap_sink, kafka_broker, sandbox_s4_clean)

    def change(version: int, phone: str, name: str, fields: list[str]) -> dict[str, Any]:
        command = _partner(number=number, name=name)
        command["to_BusinessPartnerAddress"][0]["PhoneNumber"] = phone
        return _version(_listed(command, fields), version)

    older = change(11, "+49 6227 7 11111", "Contoso", [PHONE])
    _send(sap_sink, older)
    _send(sap_sink, change(12, "+49 6227 7 22222", "Contoso", [PHONE]))
    _send(sap_sink, older)  # the replay
    _send(
        sap_sink, change(11, "+49 6227 7 11111", "Contoso Renamed", [PHONE, "OrganizationBPName1"])
    )

    results = [v for _, v in sap_sink.decode(results_topic, expected=5)][1:]
    assert [r["status"] for r in results] == ["SUCCEEDED", "SUCCEEDED", "DUPLICATE", "SUCCEEDED"]
    assert results[2]["message"] == "superseded: version 12 of this record was written"
    writes = [
        (c["method"], c["path"].rsplit("/", 1)[-1].split("(")[0])
        for c in sandbox_s4_clean.admin.calls()
        if c["method"] in ("POST", "PATCH", "PUT", "MERGE", "DELETE")
    ]
    assert writes == [
        ("POST", "A_AddressPhoneNumber"),
        ("PATCH", "A_AddressPhoneNumber"),
        ("PATCH", "A_BusinessPartner"),
    ]
    partner = _read_partner(sandbox_s4_clean, number)
    assert partner["OrganizationBPName1"] == "Contoso Renamed"
    phones = partner["to_BusinessPartnerAddress"]["results"][0]["to_PhoneNumber"]["results"]
    assert [p["PhoneNumber"] for p in phones] == ["+49 6227 7 22222"]


def _read_partner(sandbox: Any, number: str) -> dict[str, Any]:
    import httpx  # noqa: PLC0415 - only this helper calls S/4 directly

    service = sandbox.service_url("API_BUSINESS_PARTNER")
    with httpx.Client(verify=sandbox.ssl_context(), auth=sandbox.basic_auth, timeout=30) as client:
        answer = client.get(
            f"{service}A_BusinessPartner('{number}')",
            params={"$expand": "to_BusinessPartnerAddress/to_PhoneNumber", "$format": "json"},
        )
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()["d"]
    return data


def test_d365_sink_writes_only_the_listed_account_columns(d365_sink, sandbox_d365_clean):
    partner = "9100001"
    d365_sink.produce([(partner, account_upsert(partner=partner, name="Fabrikam"))], schema=ACCOUNT)
    d365_sink.start()
    d365_sink.decode(d365_sink.topics.results, expected=1)
    with sandbox_d365_clean.api_client() as client:
        rows = client.get(
            "accounts", params={"$filter": f"isthmus_s4businesspartner eq '{partner}'"}
        ).json()["value"]
    account_id = rows[0]["accountid"]

    change = account_upsert(partner=partner, name="A stale name from S/4")
    change = {**change, "accountid": account_id, "paymenttermscode": 3}
    d365_sink.produce(
        [(partner, _listed(change, ["paymenttermscode"])), (partner, _listed(change, []))],
        schema=ACCOUNT,
    )
    results = d365_sink.decode(d365_sink.topics.results, expected=3)
    assert [v["status"] for _, v in results][1:] == ["SUCCEEDED", "DUPLICATE"]
    with sandbox_d365_clean.api_client() as client:
        row = client.get(f"accounts({account_id})", params={"$select": "name,paymenttermscode"})
    assert row.json()["name"] == "Fabrikam"
    assert row.json()["paymenttermscode"] == 3
    state = d365_sink.decode(d365_sink.topics.state, expected=2)
    by_id = [value for key, value in state if key == account_id]
    assert [value["fields"] for value in by_id] == [{"paymenttermscode": "3"}]
