"""RemoteExecutionContext building and the 256 KB trimming rule (pure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isthmus.sandbox_d365.business.catalogue import build_catalogue
from isthmus.sandbox_d365.business.execution_context import build_context, wcf_date
from isthmus.sandbox_d365.business.rows import WriteEvent
from isthmus.sandbox_d365.business.webhooks import MAX_PAYLOAD, auth_pairs, encode_context

pytestmark = pytest.mark.unit
ORDERS = build_catalogue().by_logical["salesorder"]
ORG = {"business_unit_id": "b", "organization_id": "o", "organization_name": "isthmus"}
SAMPLE = Path(__file__).resolve().parents[3] / "services/sandbox-d365/samples/d365-webhook-1.json"
ORDER_ID = "6d81597f-0f9f-e711-8122-000d3aa2331c"
ROW: dict[str, object] = {
    "salesorderid": ORDER_ID,
    "name": "Web order 1001",
    "totalamount": 39.98,
    "statecode": 0,
    "_customerid_value": "aaaaaaaa-0000-0000-0000-000000000001",
    "~customerid": "account",
    "modifiedon": "2017-09-26T00:04:07Z",
    "versionnumber": 5,
}


def _event(message: str, target: dict[str, object]) -> WriteEvent:
    return WriteEvent(message, ORDERS, ORDER_ID, dict(target), None, dict(ROW), "user")


def test_context_has_the_members_and_types_of_the_documented_sample() -> None:
    context = build_context(
        _event("Update", ROW), step_id="s", step_name="n", mode=1, org=ORG, images=""
    )
    sample = json.loads(SAMPLE.read_text())
    assert set(sample) <= set(context)
    attributes = {
        a["key"]: a["value"] for a in context["InputParameters"][0]["value"]["Attributes"]
    }
    contracts = "http://schemas.microsoft.com/xrm/2011/Contracts"
    assert attributes["totalamount"] == {"__type": f"Money:{contracts}", "Value": 39.98}
    assert attributes["statecode"] == {"__type": f"OptionSetValue:{contracts}", "Value": 0}
    assert attributes["customerid"]["LogicalName"] == "account"
    assert attributes["modifiedon"] == "/Date(1506384247000)/"
    assert "versionnumber" not in attributes
    assert context["PostEntityImages"][0]["key"] == "AsynchronousStepPrimaryName"


def test_wcf_dates() -> None:
    assert wcf_date("2017-09-26T00:04:07Z") == "/Date(1506384247000)/"
    assert wcf_date("2025-07-01") == "/Date(1751328000000)/"


def test_payload_over_256_kb_is_trimmed() -> None:
    big = {**ROW, "description": "x" * (MAX_PAYLOAD + 10)}
    context = build_context(
        _event("Create", big), step_id="s", step_name="n", mode=0, org=ORG, images="post"
    )
    body, oversized = encode_context(context)
    assert oversized
    trimmed = json.loads(body)
    assert trimmed["InputParameters"] == []
    assert trimmed["ParentContext"] is None
    assert trimmed["PostEntityImages"] == []
    assert trimmed["PrimaryEntityId"] == ORDER_ID
    assert (
        encode_context(
            build_context(
                _event("Create", ROW), step_id="s", step_name="n", mode=0, org=ORG, images=""
            )
        )[1]
        is False
    )


def test_auth_settings_are_parsed() -> None:
    value = (
        '<settings><setting name="x-api-key" value="secret"/><setting name="k" value="v"/>'
        "</settings>"
    )
    assert auth_pairs(value) == {"x-api-key": "secret", "k": "v"}
