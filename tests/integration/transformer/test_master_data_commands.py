"""A running transformer lists the fields a master-data change writes, and skips the rest."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.testing.kafka import Broker, UniqueNames, drain
from isthmus.transformer.samples import avro_typed
from tests.integration.transformer.conftest import Stage, staged_run

pytestmark = pytest.mark.integration
FLOW = "d365-account-to-s4-businesspartner.yaml"
EVENT_SCHEMA = "io.isthmus.d365.AccountEvent"
PARTNER = "1000042"


@pytest.fixture
def account_stage(
    kafka_broker: Broker, repo_root: Path, unique_name: UniqueNames, tmp_path: Path
) -> Iterator[Stage]:
    """Fresh topics and a flow folder holding the account flow pointed at them."""
    topics = ("d365.account.events", "s4.businesspartner.commands")
    yield from staged_run(
        kafka_broker, repo_root, unique_name, tmp_path, flow=FLOW, topics=topics, partitions=1
    )


def _event(stage: Stage, operation: str, message: str, changed: list[str]) -> dict[str, Any]:
    sample = json.loads(
        (stage.repo / "flows" / "samples" / "d365-account-created.json").read_text()
    )
    sample["envelope"].update(
        eventId=str(uuid.uuid4()), operation=operation, message=message, changedFields=changed
    )
    sample["data"]["isthmus_s4businesspartner"] = PARTNER
    schema = json.loads(stage.serdes.catalogue.get(EVENT_SCHEMA).text)
    typed: dict[str, Any] = avro_typed(sample, schema)
    return typed


def _send(stage: Stage, event: dict[str, Any]) -> None:
    serializer = stage.serdes.serializer(value_schema=EVENT_SCHEMA)
    value = serializer(event, SerializationContext(stage.source, MessageField.VALUE))
    stage.send_raw(event["data"]["accountid"], value, event["envelope"]["eventId"])


def test_changes_carry_their_write_list_and_owned_only_changes_issue_nothing(
    account_stage: Stage,
) -> None:
    stage = account_stage
    stage.start()
    _send(stage, _event(stage, "CREATED", "Create", []))
    _send(stage, _event(stage, "UPDATED", "Update", ["telephone1", "modifiedon"]))
    _send(stage, _event(stage, "UPDATED", "Update", ["paymenttermscode"]))  # S/4 owns it
    _send(stage, _event(stage, "UPDATED", "Update", ["name"]))

    commands = [stage.decode(m) for m in drain(stage.broker, stage.commands, expected=3)]
    lists = [command["header"]["writeFields"] for command in commands]
    assert lists == [
        None,
        ["to_BusinessPartnerAddress.PhoneNumber"],
        ["OrganizationBPName1", "OrganizationBPName2"],
    ]
    assert all(command["BusinessPartner"] == PARTNER for command in commands)
    assert all(command["SearchTerm1"] is None for command in commands)  # S/4's, never written
    outcomes = [audit["outcome"] for audit in stage.audits(expected=4)]
    assert sorted(outcomes) == ["SKIPPED", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]
