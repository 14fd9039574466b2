"""A sink passes over what a newer source version of the same record already wrote."""

from __future__ import annotations

from typing import Any

import pytest

from isthmus.kafka.records import Record
from isthmus.sink.model import Command
from isthmus.sink.versions import AppliedVersions, source_version

pytestmark = pytest.mark.unit
PHONE, NAME = "to_BusinessPartnerAddress.PhoneNumber", "OrganizationBPName1"


def _command(
    version: Any, fields: list[str] | None, *, key: str = "acc-1", topic: str = "s4.bp.commands"
) -> Command:
    header = {"idempotency": {"sourceVersion": version}, "writeFields": fields}
    record = Record(
        topic=topic,
        partition=0,
        offset=0,
        timestamp_ms=0,
        key=key,
        value={"header": header},
        headers=[],
    )
    return Command(record=record, entity="businesspartner", origin="t/0/0", raw_value=None)


def test_an_older_change_of_fields_a_newer_version_wrote_is_superseded() -> None:
    versions = AppliedVersions()
    versions.applied(_command("12", [PHONE]))
    assert versions.decide(_command("11", [PHONE])).superseded_by == 12
    assert versions.decide(_command("12", [PHONE])).superseded_by is None  # the same: run again
    assert versions.decide(_command("13", [PHONE])).superseded_by is None


def test_a_change_partly_rewritten_since_writes_only_the_other_fields() -> None:
    versions = AppliedVersions()
    versions.applied(_command("12", [PHONE]))
    decision = versions.decide(_command("11", [PHONE, NAME]))
    assert decision.superseded_by is None
    assert decision.command.header["writeFields"] == [NAME]
    assert versions.decide(_command("11", [NAME])).command.header["writeFields"] == [NAME]


def test_a_full_write_supersedes_every_field_and_is_superseded_only_by_one() -> None:
    versions = AppliedVersions()
    versions.applied(_command("20", None))
    assert versions.decide(_command("19", [NAME])).superseded_by == 20
    versions.applied(_command("30", [PHONE]))
    assert versions.decide(_command("25", None)).superseded_by is None
    versions.applied(_command("40", None))
    assert versions.decide(_command("35", None)).superseded_by == 40


def test_keys_topics_and_unversioned_commands_are_kept_apart() -> None:
    versions = AppliedVersions()
    versions.applied(_command("12", [PHONE]))
    assert versions.decide(_command("11", [PHONE], key="acc-2")).superseded_by is None
    assert versions.decide(_command("11", [PHONE], topic="other")).superseded_by is None
    assert versions.decide(_command(None, [PHONE])).superseded_by is None
    assert versions.decide(_command('W/"etag"', [PHONE])).superseded_by is None
    assert source_version(_command('W/"etag"', [PHONE])) is None
    versions.applied(_command(None, [PHONE]))
    assert versions.decide(_command("11", [PHONE])).superseded_by == 12


def test_the_memory_forgets_the_least_recently_applied_key_first() -> None:
    versions = AppliedVersions(max_keys=2)
    for key in ("a", "b", "a", "c"):
        versions.applied(_command("10", [PHONE], key=key))
    assert len(versions) == 2
    assert versions.decide(_command("9", [PHONE], key="b")).superseded_by is None
    assert versions.decide(_command("9", [PHONE], key="a")).superseded_by == 10
