"""What the sandbox accepts and answers has the shapes of the captured SAP payloads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "samples"
DATE = re.compile(r"/Date\(\d+(\+0000)?\)/")


def sample(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text())


def kind(value: Any) -> str:
    if isinstance(value, str) and DATE.fullmatch(value):
        return "date+offset" if "+" in value else "date"
    if isinstance(value, dict):
        return "deferred" if "__deferred" in value else "object"
    return type(value).__name__


def same_shape(ours: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """Keys present in both whose JSON kinds differ (null matches anything)."""
    return [
        key
        for key in theirs.keys() & ours.keys()
        if key != "__metadata"
        and None not in (ours[key], theirs[key])
        and kind(ours[key]) != kind(theirs[key])
    ]


def test_captured_create_bodies_are_accepted(s4) -> None:
    numbers = []
    for index in range(1, 5):
        response = s4.post(
            "API_SALES_ORDER_SRV/A_SalesOrder", sample(f"s4-salesorder-create-{index}.json")
        )
        assert response.status_code == 201, (index, response.text)
        numbers.append(response.json()["d"]["SalesOrder"])
    assert numbers[:2] == ["5200000", "5000006"]  # external numbers without leading zeros


def test_sales_order_matches_the_captured_response(s4) -> None:
    created = s4.create_order()
    ours = s4.http.get(
        f"API_SALES_ORDER_SRV/A_SalesOrder('{created['SalesOrder']}')",
        params={"$expand": "to_Item"},
    ).json()["d"]
    theirs = sample("s4-response-2.json")["d"]["results"][0]
    assert same_shape(ours, theirs) == []
    assert same_shape(ours["to_Item"]["results"][0], theirs["to_Item"]["results"][0]) == []
    assert set(ours["__metadata"]) == set(theirs["__metadata"])
    missing = sorted(set(theirs) - set(ours))
    # Fields of a newer release than the served $metadata (none of them used by Isthmus).
    assert set(missing) <= {
        "CorrespncExternalReference",
        "POCorrespncExternalReference",
        "SlsDocSo2PLastContactPersnName",
        "SlsDocSo2PLstCntctPersnTelNmbr",
        *(f"CustomerConditionGroup{i}" for i in range(1, 6)),
    }


def test_error_matches_the_captured_error(s4) -> None:
    s4.fetch_token("API_BUSINESS_PARTNER")
    ours = s4.http.get("API_BUSINESS_PARTNER/A_BusinessPartnerType").json()["error"]
    theirs = sample("s4-error-4.json")["error"]
    assert ours["code"] == theirs["code"] == "/IWBEP/CM_MGW_RT/020"
    assert ours["message"] == theirs["message"]
    assert ours["innererror"]["application"] == theirs["innererror"]["application"]
    for key in ("transactionid", "timestamp", "Error_Resolution", "errordetails"):
        assert key in ours["innererror"]
    detail_keys = set(theirs["innererror"]["errordetails"][0]) - {"ContentID", "longtext_url"}
    assert detail_keys <= set(ours["innererror"]["errordetails"][0])
