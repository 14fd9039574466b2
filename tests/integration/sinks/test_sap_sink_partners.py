"""sap-sink business partners: created once by external id, changed by number, xref published."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.serialization import MessageField, SerializationContext

from tests.integration.sinks.conftest import create_entity_topics, header

pytestmark = pytest.mark.integration
SCHEMA = "io.isthmus.s4.BusinessPartnerUpsertCommand"


def _partner(*, number: str | None, name: str) -> dict[str, Any]:
    return {
        "header": header(key="acc-1", reference="ACC-1", flow="d365-account-to-s4-businesspartner"),
        "BusinessPartner": number,
        "BusinessPartnerCategory": "2",
        "BusinessPartnerGrouping": None,
        "OrganizationBPName1": name,
        "OrganizationBPName2": None,
        "FirstName": None,
        "LastName": None,
        "SearchTerm1": "CONTOSO",
        "Language": "EN",
        "BusinessPartnerIDByExtSystem": "ACC-1",
        "to_BusinessPartnerRole": [{"BusinessPartnerRole": "FLCU01"}],
        "to_BusinessPartnerAddress": [
            {
                "AddressID": None,
                "StreetName": "Main St",
                "HouseNumber": "1",
                "PostalCode": "69190",
                "CityName": "Walldorf",
                "Country": "DE",
                "Region": None,
                "Language": "EN",
                "EmailAddress": "a@example.com",
                "PhoneNumber": None,
            }
        ],
        "to_CustomerSalesArea": [
            {
                "SalesOrganization": "1010",
                "DistributionChannel": "10",
                "Division": "00",
                "Currency": "EUR",
                "CustomerPaymentTerms": None,
                "IncotermsClassification": None,
                "ShippingCondition": None,
                "CustomerPricingProcedure": None,
            }
        ],
    }


def _send(harness, value: dict[str, Any]) -> None:
    topic = f"{harness.topics.prefix}s4.businesspartner.commands"
    serializer = harness.factory.serializer(value_schema=SCHEMA)
    producer = Producer(harness.broker.settings.client_config())
    producer.produce(
        topic, serializer(value, SerializationContext(topic, MessageField.VALUE)), b"acc-1"
    )
    producer.flush(30)


def test_partner_created_once_then_changed_by_number(sap_sink, sandbox_s4_clean):
    _commands, results_topic, state_topic = create_entity_topics(sap_sink, "s4", "businesspartner")
    _send(sap_sink, _partner(number=None, name="Contoso"))
    _send(sap_sink, _partner(number=None, name="Contoso"))
    sap_sink.start(extra={"ISTHMUS_SAP_SINK_SINK__ENTITIES": '["businesspartner"]'})
    first = [v for _, v in sap_sink.decode(results_topic, expected=2)]
    assert [r["status"] for r in first] == ["SUCCEEDED", "DUPLICATE"]
    number = first[0]["targetId"]
    assert first[1]["targetId"] == number

    _send(sap_sink, _partner(number=number, name="Contoso Renamed"))
    assert sap_sink.decode(results_topic, expected=3)[-1][1]["status"] == "SUCCEEDED"
    state = sap_sink.decode(state_topic, expected=3)
    assert state[-1][0] == number
    assert state[-1][1]["fields"]["OrganizationBPName1"] == "Contoso Renamed"
    xref = {k for k, _ in sap_sink.decode(sap_sink.topics.xref, expected=2)}
    assert {"account:acc-1", f"account:s4:{number}"} <= xref
    creates = [
        c
        for c in sandbox_s4_clean.admin.calls(method="POST", path_contains="A_BusinessPartner")
        if c["status"] == 201
    ]
    assert len(creates) == 1
