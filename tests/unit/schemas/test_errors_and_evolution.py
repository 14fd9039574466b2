"""Bad input raises the right typed error; records written with an old schema read with the new."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext

from isthmus.schemas import (
    AvroDeserializer,
    AvroSerializer,
    ErrorKind,
    IncompatibleSchemaError,
    RecordMismatchError,
    SchemaCatalogue,
    SchemaError,
    SchemaSettings,
    SerdeFactory,
    UndecodableError,
    UnknownFingerprintError,
    UnknownMagicByteError,
    UnknownSchemaIdError,
)
from isthmus.schemas.compat import archive_versions
from isthmus.schemas.wire import confluent_header, single_object_header

pytestmark = pytest.mark.unit

CTX = SerializationContext("d365.account.events", MessageField.VALUE)
ACCOUNT_EVENT = "io.isthmus.d365.AccountEvent"


def account_event(**data: Any) -> dict[str, Any]:
    return {
        "envelope": {
            "eventId": "0d9c1a4e-5d1f-4c3a-9a53-8f0e3c2b7a11",
            "occurredAt": datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
            "system": "D365",
            "operation": "UPDATED",
            "message": "Update",
            "changedFields": ["name"],
        },
        "data": {"accountid": "75c2dd85-0000-0000-0000-000000000001", "name": "Contoso", **data},
    }


@pytest.fixture
def pair(catalogue: SchemaCatalogue, repo_root: Path) -> tuple[AvroSerializer, AvroDeserializer]:
    factory = SerdeFactory(settings=SchemaSettings(), catalogue=catalogue, root=repo_root)
    serde = factory.pair(value_schema=ACCOUNT_EVENT)
    return serde.serializer, serde.deserializer


def test_defaults_fill_missing_optional_fields_and_types_come_back(
    pair: tuple[AvroSerializer, AvroDeserializer],
) -> None:
    serializer, deserializer = pair
    record = deserializer(serializer(account_event(), CTX), CTX)
    assert record is not None
    assert record["data"]["accountnumber"] is None
    assert record["envelope"]["occurredAt"] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert record["envelope"]["occurredAt"].tzinfo is not None


@pytest.mark.parametrize(
    ("payload", "error", "words"),
    [
        (b"", UndecodableError, "empty payload"),
        (b"\x7b\x22json\x22: 1}", UnknownMagicByteError, "unknown magic byte"),
        (b"\x00\x00\x01", UndecodableError, "shorter than the Confluent header"),
        (b"\xc3\x01\x01\x02", UndecodableError, "shorter than the single-object header"),
        (single_object_header(0x1234) + b"\x02", UnknownFingerprintError, "0x0000000000001234"),
        (confluent_header(7) + b"\x02", UnknownSchemaIdError, "schema id 7"),
    ],
)
def test_bad_bytes_raise_invalid_errors_naming_the_problem(
    pair: tuple[AvroSerializer, AvroDeserializer],
    payload: bytes,
    error: type[SchemaError],
    words: str,
) -> None:
    _, deserializer = pair
    with pytest.raises(error, match=words) as raised:
        deserializer(payload, CTX)
    assert raised.value.kind is ErrorKind.INVALID
    assert raised.value.topic == CTX.topic


def test_truncated_and_padded_bodies_are_undecodable(
    pair: tuple[AvroSerializer, AvroDeserializer],
) -> None:
    serializer, deserializer = pair
    good = serializer(account_event(), CTX)
    assert good is not None
    with pytest.raises(UndecodableError, match="cannot decode"):
        deserializer(good[:-5], CTX)
    with pytest.raises(UndecodableError, match="bytes left after the record"):
        deserializer(good + b"\x00\x00", CTX)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": None}, "data.name"),
        ({"accountnumber": 42}, "data.accountnumber"),
        ({"statecode": "active"}, "data.statecode"),
    ],
)
def test_records_that_do_not_match_name_the_field(
    pair: tuple[AvroSerializer, AvroDeserializer], data: dict[str, Any], field: str
) -> None:
    serializer, _ = pair
    with pytest.raises(RecordMismatchError) as raised:
        serializer(account_event(**data), CTX)
    assert raised.value.kind is ErrorKind.INVALID
    assert raised.value.field == field
    assert field in str(raised.value)


def _evolve(repo_root: Path, target: Path) -> tuple[SchemaCatalogue, SchemaCatalogue]:
    """Copy the real catalogue to ``target`` with Account gaining two fields: (old, new)."""
    folder = repo_root / "schemas"
    sources = {
        str(path.relative_to(folder)): path.read_text()
        for path in folder.rglob("*.avsc")
        if "versions" not in path.relative_to(folder).parts
    }
    account = json.loads(sources["d365/Account.avsc"])
    account["fields"] += [
        {"name": "websiteurl", "type": ["null", "string"], "default": None, "doc": "Website."},
        {"name": "numberofemployees", "type": "long", "default": 0, "doc": "Employees."},
    ]
    for name, text in {**sources, "d365/Account.avsc": json.dumps(account)}.items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text)
    return SchemaCatalogue.from_sources(sources), SchemaCatalogue.load(target)


def test_records_written_with_an_old_schema_are_read_with_the_new(
    repo_root: Path, tmp_path: Path
) -> None:
    old, new = _evolve(repo_root, tmp_path)
    written = AvroSerializer(schema=old.get(ACCOUNT_EVENT))(account_event(accountnumber="A-1"), CTX)
    # without the old version the fingerprint is unknown: invalid input, not a crash
    with pytest.raises(UnknownFingerprintError):
        AvroDeserializer(catalogue=new, reader=new.get(ACCOUNT_EVENT))(written, CTX)
    # the checker archives the old versions in schemas/versions; consumers then read old records
    archived = archive_versions(baseline=old, current=new, folder=tmp_path / "versions")
    assert sorted(path.name.split(".")[3] for path in archived) == ["Account", "AccountEvent"]
    evolved = SchemaCatalogue.load(tmp_path)
    assert evolved.names == new.names
    record = AvroDeserializer(catalogue=evolved, reader=evolved.get(ACCOUNT_EVENT))(written, CTX)
    assert record is not None
    assert record["data"]["accountnumber"] == "A-1"
    assert record["data"]["websiteurl"] is None
    assert record["data"]["numberofemployees"] == 0


def test_a_writer_the_reader_cannot_resolve_is_incompatible(catalogue: SchemaCatalogue) -> None:
    written = AvroSerializer(schema=catalogue.get("io.isthmus.d365.ContactEvent"))(
        {
            "envelope": account_event()["envelope"],
            "data": {"contactid": "c-1", "lastname": "Smith"},
        },
        CTX,
    )
    reader = AvroDeserializer(catalogue=catalogue, reader=catalogue.get(ACCOUNT_EVENT))
    with pytest.raises(IncompatibleSchemaError, match="name-changed") as raised:
        reader(written, CTX)
    assert raised.value.kind is ErrorKind.INVALID


def test_decimals_keep_their_scale(catalogue: SchemaCatalogue) -> None:
    schema = catalogue.get("io.isthmus.common.Money")
    payload = AvroSerializer(schema=schema)({"amount": Decimal("39.98"), "currencyCode": "EUR"})
    record = AvroDeserializer(catalogue=catalogue, reader=schema)(payload)
    assert record == {"amount": Decimal("39.9800"), "currencyCode": "EUR"}
    with pytest.raises(RecordMismatchError, match="field amount") as raised:
        AvroSerializer(schema=schema)({"amount": Decimal("0.00001"), "currencyCode": "EUR"})
    assert raised.value.field == "amount"
