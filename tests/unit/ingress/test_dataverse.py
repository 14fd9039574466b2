"""RemoteExecutionContext bodies (the real samples) become the right pending events."""

from __future__ import annotations

import json

import pytest

from isthmus.ingress.core.dataverse import events_for, parse_context
from isthmus.ingress.errors import MalformedError
from isthmus.ingress.settings import DataverseWebhookSettings

from .conftest import SAMPLES

pytestmark = pytest.mark.unit
SETTINGS = DataverseWebhookSettings()


def _context(name: str):
    return parse_context(json.loads((SAMPLES / name).read_text()), organization="org.test")


def test_documentation_sample_is_a_contact_update_with_changed_fields() -> None:
    context = _context("d365-webhook-1.json")
    (event,) = events_for(context, settings=SETTINGS, correlation_id="corr-1")

    assert event.topic == "d365.contact.events"
    assert event.key == "6d81597f-0f9f-e711-8122-000d3aa2331c"
    assert event.envelope["message"] == "Update"
    assert event.envelope["eventId"] == "4af10637-4ea2-e711-8122-000d3aa2331c"
    assert event.envelope["originUser"] == "11bb11bb-cc22-dd33-ee44-55ff55ff55ff"
    assert event.envelope["correlationId"] == "corr-1"
    assert event.envelope["occurredAt"] == "2017-09-26T07:04:08.000Z"
    assert "firstname" in event.envelope["changedFields"]
    assert event.data["fullname"] == "James Glynn (sample)"
    assert event.data["_modifiedby_value"] == "11bb11bb-cc22-dd33-ee44-55ff55ff55ff"
    assert event.data["modifiedon"] == "2017-09-26T00:04:07.000Z"


def test_typed_wrappers_of_the_2018_capture_are_unwrapped() -> None:
    (event,) = events_for(_context("d365-webhook-2.json"), settings=SETTINGS, correlation_id=None)

    assert event.topic == "d365.account.events"
    assert event.data["accountid"] == "ec4e2f7d-9d60-e811-a95a-000d3af24950"
    assert event.data["telephone1"] == "1111"
    assert event.data["modifiedon"] == "2018-05-31T09:05:24.000Z"
    assert event.envelope["correlationId"] == "39499111-e689-42a1-ae8a-5b14a84514ce"


def test_account_create_carries_option_sets_and_lookups() -> None:
    (event,) = events_for(_context("d365-webhook-7.json"), settings=SETTINGS, correlation_id=None)

    assert event.envelope["operation"] == "CREATED"
    assert event.key == "53c52f26-a89d-ef11-8a69-000d3a30b0c1"
    assert event.data["statecode"] == 0
    assert event.data["_transactioncurrencyid_value"] == "889d2542-159d-ef11-8a6b-000d3a318589"
    assert event.hydration is not None and event.hydration.collection == "accounts"


@pytest.mark.parametrize(
    "name",
    ["d365-webhook-3.json", "d365-webhook-4.json", "d365-webhook-5.json", "d365-webhook-6.json"],
)
def test_tables_no_flow_uses_make_no_event(name: str) -> None:
    assert events_for(_context(name), settings=SETTINGS, correlation_id=None) == []


def test_fulfilled_order_update_is_also_a_shipment_confirmation() -> None:
    body = json.loads((SAMPLES / "d365-webhook-1.json").read_text())
    body["PrimaryEntityName"] = "salesorder"
    body["InputParameters"][0]["value"]["Attributes"] = [
        {"key": "statecode", "value": {"__type": "OptionSetValue:x", "Value": 3}},
        {"key": "statuscode", "value": {"__type": "OptionSetValue:x", "Value": 100001}},
    ]
    context = parse_context(body, organization=None)
    order, shipment = events_for(context, settings=SETTINGS, correlation_id=None)

    assert order.envelope["operation"] == "STATUS_CHANGED"
    assert shipment.topic == "d365.shipment.events"
    assert shipment.envelope["message"] == "FulfillSalesOrder"
    assert shipment.data["status"] == 100001
    assert shipment.dedup_id != order.dedup_id


def test_fulfill_sales_order_message_reads_order_close_and_status() -> None:
    body = {
        "MessageName": "FulfillSalesOrder",
        "PrimaryEntityName": "salesorder",
        "PrimaryEntityId": "6D81597F-0AB1-4F3E-9D1C-2B7A5E4C8F10",
        "OperationId": "op-1",
        "InputParameters": [
            {
                "key": "OrderClose",
                "value": {"Attributes": [{"key": "subject", "value": "Shipped"}]},
            },
            {"key": "Status", "value": {"__type": "OptionSetValue:x", "Value": 100002}},
        ],
    }
    (shipment,) = events_for(
        parse_context(body, organization=None), settings=SETTINGS, correlation_id=None
    )

    assert shipment.key == "6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10"
    assert shipment.data == {"salesorderid": shipment.key, "status": 100002, "subject": "Shipped"}


def test_a_body_that_is_not_a_context_lists_every_missing_field() -> None:
    with pytest.raises(MalformedError) as raised:
        parse_context({"MessageName": "Create"}, organization=None)
    assert raised.value.violations == (
        "$.PrimaryEntityName: required field is missing",
        "$.PrimaryEntityId: required field is missing",
    )


def _order(**fields: object) -> dict[str, object]:
    body: dict[str, object] = {
        "MessageName": "Update",
        "PrimaryEntityName": "salesorder",
        "PrimaryEntityId": "6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10",
    }
    body.update(fields)
    return body


@pytest.mark.parametrize(
    ("fields", "violation"),
    [
        ({"PrimaryEntityId": "not-a-guid"}, "$.PrimaryEntityId: expected a GUID"),
        ({"UserId": "42"}, "$.UserId: expected a GUID"),
        ({"PrimaryEntityName": 7}, "$.PrimaryEntityName: expected a string"),
        ({"InputParameters": "oops"}, "$.InputParameters: expected a list of key/value pairs"),
        (
            {"InputParameters": [{"value": 1}]},
            "$.InputParameters[0]: expected an object with a string key",
        ),
        (
            {"InputParameters": [{"key": "Target", "value": "str"}]},
            "$.InputParameters[Target].value: expected an Entity or EntityReference object",
        ),
        (
            {"InputParameters": [{"key": "Target", "value": {"Attributes": {"name": "x"}}}]},
            "$.InputParameters[Target].value.Attributes: expected a list of key/value pairs",
        ),
        ({"PostEntityImages": [["Image"]]}, "$.PostEntityImages[0]: expected an object"),
    ],
)
def test_a_context_of_the_wrong_shape_is_refused_with_its_path(
    fields: dict[str, object], violation: str
) -> None:
    with pytest.raises(MalformedError) as raised:
        parse_context(_order(**fields), organization=None)
    assert any(found.startswith(violation) for found in raised.value.violations)


def test_an_entity_reference_target_of_a_delete_is_a_context() -> None:
    target = {"Id": "6d81597f-0ab1-4f3e-9d1c-2b7a5e4c8f10", "LogicalName": "salesorder"}
    context = parse_context(
        _order(MessageName="Delete", InputParameters=[{"key": "Target", "value": target}]),
        organization=None,
    )
    assert context.message == "Delete"
