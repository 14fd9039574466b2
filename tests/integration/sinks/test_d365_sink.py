"""d365-sink as a real process: account upserts by alternate key in $batch, bad ones to the DLQ."""

from __future__ import annotations

import pytest

from tests.integration.sinks.conftest import account_upsert

pytestmark = pytest.mark.integration
ACCOUNT = "io.isthmus.d365.AccountUpsertCommand"


def test_accounts_upserted_once_in_batches_bad_bind_dead_lettered(d365_sink, sandbox_d365_clean):
    count = 150
    commands = [
        (f"90{i:05d}", account_upsert(partner=f"90{i:05d}", name=f"Account {i}"))
        for i in range(count)
    ]
    renamed = [
        (k, account_upsert(partner=k, name=f"{v['name']} renamed")) for k, v in commands[:20]
    ]
    poison = ("9099999", account_upsert(partner="9099999", name="Bad", currency="XXX"))
    d365_sink.produce([*commands, *renamed, poison], schema=ACCOUNT)
    d365_sink.start()

    results = d365_sink.decode(d365_sink.topics.results, expected=count + 21, timeout_s=90)
    statuses = {key: value["status"] for key, value in results}
    assert statuses.pop("9099999") == "REJECTED"
    assert set(statuses.values()) == {"SUCCEEDED"} and len(statuses) == count
    dlq = d365_sink.decode(d365_sink.topics.dlq, expected=1)
    assert [key for key, _ in dlq] == ["9099999"]

    with sandbox_d365_clean.api_client() as client:
        rows = client.get(
            "accounts",
            params={
                "$select": "name,isthmus_s4businesspartner",
                "$filter": "startswith(isthmus_s4businesspartner,'90')",
            },
            headers={"Prefer": "odata.maxpagesize=5000"},
        ).json()["value"]
    by_partner: dict[str, list[str]] = {}
    for row in rows:
        by_partner.setdefault(row["isthmus_s4businesspartner"], []).append(row["name"])
    assert len(by_partner) == count and all(len(v) == 1 for v in by_partner.values())
    assert by_partner["9000000"] == ["Account 0 renamed"]
    batches = sandbox_d365_clean.admin.calls(method="POST", path="/api/data/v9.2/$batch")
    assert batches, "the sink sent its waves as $batch requests"
