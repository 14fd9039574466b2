"""Contract tests for change tracking and ``$batch`` (README checklist 15-16)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from isthmus.sandbox_d365.business.seed import sid
from isthmus.testing.sandbox_d365 import SandboxD365

pytestmark = pytest.mark.integration
ACCOUNT = sid("account:C-10001")


@pytest.fixture
def api(sandbox_d365_clean: SandboxD365) -> Iterator[httpx.Client]:
    with sandbox_d365_clean.api_client() as client:
        yield client


def test_item_15_change_tracking_delta_links_and_tombstones(api: httpx.Client) -> None:
    tracking = {"Prefer": "odata.track-changes"}
    initial = api.get("accounts?$select=name,accountnumber", headers=tracking)
    assert initial.headers["Preference-Applied"] == "odata.track-changes"
    body = initial.json()
    assert len(body["value"]) == 4
    delta_link = body["@odata.deltaLink"]
    assert "$deltatoken=" in delta_link
    quiet = api.get(delta_link, headers=tracking).json()
    assert quiet["value"] == []
    assert quiet["@odata.context"].endswith("/$delta")
    new = api.post(
        "accounts", json={"name": "Delta Ltd"}, headers={"Prefer": "return=representation"}
    ).json()
    api.patch(f"accounts({ACCOUNT})", json={"name": "Contoso Retail AG"}).raise_for_status()
    doomed = sid("account:C-10004")
    api.delete(f"contacts({sid('contact:C-10004')})").raise_for_status()
    api.delete(f"accounts({doomed})").raise_for_status()
    changes = api.get(delta_link, headers=tracking).json()
    changed = {row.get("accountid") or row.get("id"): row for row in changes["value"]}
    assert changed[new["accountid"]]["name"] == "Delta Ltd"
    assert changed[ACCOUNT]["name"] == "Contoso Retail AG"
    assert changed[doomed] == {
        "@odata.context": f"{api.base_url}$metadata#accounts/$deletedEntity",
        "id": doomed,
        "reason": "deleted",
    }
    follow_up = api.get(changes["@odata.deltaLink"], headers=tracking).json()
    assert follow_up["value"] == []
    for option in ("$filter=name eq 'x'", "$orderby=name", "$expand=primarycontactid", "$top=1"):
        rejected = api.get(f"accounts?{option}", headers=tracking)
        assert rejected.status_code == 400
        assert (
            "isn't supported when Change Tracking is enabled" in rejected.json()["error"]["message"]
        )


def _batch(parts: list[str], boundary: str) -> bytes:
    return ("".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n").encode()


def _request(method: str, url: str, body: str | None = None, content_id: str | None = None) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id:
        head += f"Content-ID: {content_id}\r\n"
    text = f"{head}\r\n{method} {url} HTTP/1.1\r\n"
    if body is not None:
        text += f"Content-Type: application/json; type=entry\r\n\r\n{body}"
    else:
        text += "\r\n"
    return text


def _change_set(parts: list[str]) -> tuple[str, str]:
    boundary = f"changeset_{uuid.uuid4().hex[:8]}"
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n" + _batch(
        parts, boundary
    ).decode(), boundary


def test_item_16_batch_changesets_content_id_and_errors(
    api: httpx.Client, sandbox_d365_clean: SandboxD365
) -> None:
    order = (
        f'{{"name": "Batch order", "customerid_account@odata.bind": "/accounts({ACCOUNT})", '
        f'"pricelevelid@odata.bind": "/pricelevels({sid("pricelevel:default")})"}}'
    )
    bike = f"/products({sid('product:TG11')})"
    line = f'{{"salesorderid@odata.bind": "$1", "productid@odata.bind": "{bike}", "quantity": 3}}'
    change_set, _ = _change_set(
        [
            _request("POST", "/api/data/v9.2/salesorders", order, "1"),
            _request("POST", "salesorderdetails", line, "2"),
            _request("PATCH", "$1", '{"description": "patched through Content-ID"}', "3"),
        ]
    )
    parts = [
        _request("GET", f"{sandbox_d365_clean.api_url}/accounts({ACCOUNT})?$select=name"),
        change_set,
    ]
    response = api.post(
        "$batch",
        content=_batch(parts, "batch_1"),
        headers={"Content-Type": "multipart/mixed; boundary=batch_1"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    text = response.text
    assert "changesetresponse_" in text
    assert text.count("HTTP/1.1 204 No Content") == 3
    assert "Content-ID: 2" in text
    assert "Contoso Retail GmbH" in text
    orders = api.get(
        "salesorders?$filter=name eq 'Batch order'&$select=totalamount,description"
    ).json()["value"]
    assert len(orders) == 1
    assert orders[0]["description"] == "patched through Content-ID"
    assert orders[0]["totalamount"] == 3 * 1199.0

    failing, _ = _change_set(
        [
            _request("POST", "accounts", '{"name": "Rolled back"}', "1"),
            _request("POST", "accounts", '{"name": "bad", "nosuchcolumn": 1}', "2"),
        ]
    )
    after = _request("POST", "accounts", '{"name": "After the failure"}')
    stopped = api.post(
        "$batch",
        content=_batch([failing, after], "b2"),
        headers={"Content-Type": "multipart/mixed; boundary=b2"},
    )
    assert stopped.status_code == 400
    assert api.get("accounts?$filter=name eq 'Rolled back'").json()["value"] == []
    assert api.get("accounts?$filter=name eq 'After the failure'").json()["value"] == []

    continued = api.post(
        "$batch",
        content=_batch([failing, after], "b3"),
        headers={
            "Content-Type": "multipart/mixed; boundary=b3",
            "Prefer": "odata.continue-on-error",
        },
    )
    assert continued.status_code == 200
    assert "REQ_ID" in continued.text
    assert len(api.get("accounts?$filter=name eq 'After the failure'").json()["value"]) == 1
    assert api.get("accounts?$filter=name eq 'Rolled back'").json()["value"] == []

    dangling = api.post(
        "$batch",
        content=_batch([_change_set([_request("PATCH", "$9", "{}", "1")])[0]], "b4"),
        headers={"Content-Type": "multipart/mixed; boundary=b4"},
    )
    assert "Content-ID Reference: '$9' does not exist in the batch context." in dangling.text
    get_in_change_set = api.post(
        "$batch",
        content=_batch([_change_set([_request("GET", "accounts")])[0]], "b5"),
        headers={"Content-Type": "multipart/mixed; boundary=b5"},
    )
    assert get_in_change_set.status_code == 400
    too_many = [_request("GET", "accounts?$top=1")] * 1001
    limit = api.post(
        "$batch",
        content=_batch(too_many, "b6"),
        headers={"Content-Type": "multipart/mixed; boundary=b6"},
    )
    assert limit.status_code == 400
