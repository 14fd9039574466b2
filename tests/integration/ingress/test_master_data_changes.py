"""Thin S/4 partner events name the fields changed since the last known state; no change, none."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from isthmus.testing.kafka import Broker, create_topics
from isthmus.testing.sandbox_d365 import SandboxD365
from isthmus.testing.sandbox_s4 import SandboxS4

from .conftest import (
    RunningIngress,
    decoded,
    ingress_process,
    make_topics,
    records_for,
    s4_write,
    thin_sap_event,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
PARTNER = "17100001"
SERVICE = "API_BUSINESS_PARTNER"


@pytest.fixture(scope="module")
def master_ingress(
    kafka_broker: Broker,
    sandbox_d365: SandboxD365,
    sandbox_s4: SandboxS4,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[RunningIngress, str]]:
    """An ingress that reads the partner state topic (master data)."""
    topics = make_topics(kafka_broker)
    s4_state = f"{topics.prefix}.state.s4.businesspartner"
    create_topics(kafka_broker, s4_state)
    with ingress_process(
        kafka_broker,
        tmp_path_factory.mktemp("ingress-master"),
        topics=topics,
        d365=sandbox_d365,
        s4=sandbox_s4,
        ISTHMUS_INGRESS_STATE_TOPICS=json.dumps([topics.state, s4_state]),
        ISTHMUS_INGRESS_SAP__COALESCE_WINDOW_S="0",
    ) as running:
        yield running, s4_state


def _changed(number: str) -> dict[str, object]:
    return thin_sap_event(
        "sap.s4.beh.businesspartner.v1.BusinessPartner.Changed.v1", {"BusinessPartner": number}
    )


def _rename(sandbox: SandboxS4, name: str) -> None:
    answer = s4_write(
        sandbox,
        SERVICE,
        "PATCH",
        f"A_BusinessPartner('{PARTNER}')",
        {"OrganizationBPName1": name},
        **{"If-Match": "*"},
    )
    assert answer.status_code == 204, answer.text


def _send(ingress: RunningIngress) -> dict[str, Any]:
    response = ingress.sap_event(_changed(PARTNER))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_only_what_changed_since_the_last_read_is_named(
    master_ingress: tuple[RunningIngress, str],
    sandbox_s4_clean: SandboxS4,
    kafka_broker: Broker,
) -> None:
    ingress, s4_state = master_ingress
    sandbox_s4_clean.admin.settings(events_enabled=False)
    topic = ingress.topics.s4["businesspartner"]

    assert _send(ingress)["produced"]  # nothing known yet: every field may have changed
    assert _send(ingress)["echoes"] == 1  # read again, nothing differs: no event
    _rename(sandbox_s4_clean, "Renamed by a clerk")
    assert _send(ingress)["produced"]

    events = records_for(kafka_broker, topic, PARTNER, expected=2)
    first, renamed = (decoded(m, "io.isthmus.s4.BusinessPartnerEvent") for m in events)
    assert first["envelope"]["changedFields"] == []
    changed = renamed["envelope"]["changedFields"]
    assert "OrganizationBPName1" in changed
    assert not [name for name in changed if "Address" in name or "SalesArea" in name]
    states = records_for(kafka_broker, s4_state, PARTNER, expected=2)
    last = decoded(states[-1], "io.isthmus.common.EntityState")
    assert last["source"] == "EVENT"
    assert last["fields"]["OrganizationBPName1"] == "Renamed by a clerk"
