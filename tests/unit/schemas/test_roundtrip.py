"""Every schema of the catalogue round-trips through single-object encoding (hypothesis)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.serialization import MessageField, SerializationContext
from fastavro.schema import fingerprint
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.devenv.paths import find_root
from isthmus.schemas import AvroDeserializer, AvroSerializer, SchemaCatalogue, WireFormat
from isthmus.schemas.fingerprint import schema_fingerprint
from isthmus.schemas.wire import SINGLE_OBJECT_MAGIC, read_header

_CATALOGUE = SchemaCatalogue.load(find_root(Path(__file__)) / "schemas")
RECORDS = [schema.name for schema in _CATALOGUE if schema.parsed["type"] == "record"]
CTX = SerializationContext("t.roundtrip", MessageField.VALUE)


@pytest.mark.unit
@pytest.mark.parametrize("name", RECORDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_single_object_round_trip(
    name: str, data: st.DataObject, catalogue: SchemaCatalogue, values_of: Any
) -> None:
    schema = catalogue.get(name)
    value = data.draw(values_of(schema.parsed))
    serializer = AvroSerializer(schema=schema)
    payload = serializer(value, CTX)
    assert payload is not None
    assert payload[:2] == SINGLE_OBJECT_MAGIC
    header = read_header(payload)
    assert header.wire_format is WireFormat.SINGLE_OBJECT
    assert header.schema_ref == schema.fingerprint
    assert AvroDeserializer(catalogue=catalogue, reader=schema)(payload, CTX) == value
    assert AvroDeserializer(catalogue=catalogue)(payload, CTX) == value


@pytest.mark.unit
def test_tombstones_stay_none(catalogue: SchemaCatalogue) -> None:
    schema = catalogue.get("io.isthmus.common.ParkedKey")
    assert AvroSerializer(schema=schema)(None, CTX) is None
    assert AvroDeserializer(catalogue=catalogue, reader=schema)(None, CTX) is None


@pytest.mark.unit
def test_fingerprint_follows_the_specification() -> None:
    # The Avro test data lists the fingerprint of "int" as the signed long 8247732601305521295.
    assert schema_fingerprint('"int"') == 8247732601305521295
    # fastavro's own implementation agrees on every schema of the catalogue.
    for schema in _CATALOGUE:
        expected = fingerprint(schema.canonical, "CRC-64-AVRO")
        assert schema.fingerprint_bytes.hex() == expected
