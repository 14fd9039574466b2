"""A running transformer lists the fields a master-data change writes, and skips the rest."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.schemas import SchemaSettings, SerdeFactory
from isthmus.testing.kafka import Broker, UniqueNames, create_topics, drain
from isthmus.transformer.samples import avro_typed
from tests.integration.transformer.conftest import Stage, _ensure_audit_topic

pytestmark = pytest.mark.integration
FLOW = "d365-account-to-s4-businesspartner.yaml"
EVENT_SCHEMA = "io.isthmus.d365.AccountEvent"
PARTNER = "1000042"


@pytest.fixture
def account_stage(
    kafka_broker: Broker, repo_root: Path, unique_name: UniqueNames, tmp_path: Path
) -> Iterator[Stage]:
    """Fresh topics and a flow folder holding the account flow pointed at them."""
    source, commands, group, xref = (unique_name(n) for n in ("src", "cmd", "grp", "xref"))
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copytree(repo_root / "flows" / "lookups", folder / "lookups")
    text = (repo_root / "flows" / FLOW).read_text()
    text = text.replace("d365.account.events", source).replace(
        "s4.businesspartner.commands", commands
    )
    (folder / FLOW).write_text(text)
    _ensure_audit_topic(kafka_broker)
    create_topics(kafka_broker, source, commands, f"{group}.dlq", partitions=1)
    create_topics(kafka_broker, f"{group}.retry.1s", f"{group}.retry.2s", partitions=1)
    create_topics(
        kafka_broker, xref, f"{group}.parked", partitions=1, **{"cleanup.policy": "compact"}
    )
    staged = Stage(
        broker=kafka_broker,
        repo=repo_root,
        folder=folder,
        source=source,
        commands=commands,
        group=group,
        xref=xref,
        serdes=SerdeFactory(settings=SchemaSettings(schemas_dir=repo_root / "schemas")),
        logs=tmp_path / "transformer.log",
    )
    yield staged
    if staged.process is not None:
        staged.process.stop()


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
