"""The two wire formats of an Avro record value and how to tell them apart.

- Confluent framing: ``0x00`` + 4-byte big-endian schema id (a registry's id) + Avro binary.
- Avro single-object encoding: ``0xC3 0x01`` + 8-byte little-endian CRC-64-AVRO fingerprint of
  the writer schema's Parsing Canonical Form + Avro binary.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from isthmus.schemas.errors import UndecodableError, UnknownMagicByteError

CONFLUENT_MAGIC = b"\x00"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_HEADER_SIZE = 5
SINGLE_OBJECT_HEADER_SIZE = 10


class WireFormat(StrEnum):
    """How a record's writer schema is named in its bytes."""

    CONFLUENT = "confluent"
    SINGLE_OBJECT = "single-object"


@dataclass(frozen=True, slots=True)
class Header:
    """The writer-schema reference read from the front of a payload."""

    wire_format: WireFormat
    schema_ref: int
    """The registry schema id (Confluent) or the CRC-64-AVRO fingerprint (single-object)."""
    body_offset: int


def confluent_header(schema_id: int) -> bytes:
    """The 5 bytes in front of a Confluent-framed record."""
    return CONFLUENT_MAGIC + schema_id.to_bytes(4, "big")


def single_object_header(fingerprint: int) -> bytes:
    """The 10 bytes in front of a single-object-encoded record."""
    return SINGLE_OBJECT_MAGIC + fingerprint.to_bytes(8, "little")


def read_header(data: bytes, *, topic: str | None = None) -> Header:
    """Identify the wire format and the writer-schema reference of ``data``.

    Raises:
        UndecodableError: the payload is shorter than its header.
        UnknownMagicByteError: the payload starts with neither magic.
    """
    if data[:1] == CONFLUENT_MAGIC:
        if len(data) < CONFLUENT_HEADER_SIZE:
            raise UndecodableError(
                f"payload of {len(data)} bytes is shorter than the Confluent header", topic=topic
            )
        schema_id = int.from_bytes(data[1:CONFLUENT_HEADER_SIZE], "big")
        return Header(WireFormat.CONFLUENT, schema_id, CONFLUENT_HEADER_SIZE)
    if data[:2] == SINGLE_OBJECT_MAGIC:
        if len(data) < SINGLE_OBJECT_HEADER_SIZE:
            raise UndecodableError(
                f"payload of {len(data)} bytes is shorter than the single-object header",
                topic=topic,
            )
        fingerprint = int.from_bytes(data[2:SINGLE_OBJECT_HEADER_SIZE], "little")
        return Header(WireFormat.SINGLE_OBJECT, fingerprint, SINGLE_OBJECT_HEADER_SIZE)
    if not data:
        raise UndecodableError("empty payload where an Avro record was expected", topic=topic)
    raise UnknownMagicByteError(
        f"unknown magic byte(s) {data[:2].hex()}: neither Confluent framing (00) nor Avro "
        "single-object encoding (c301)",
        topic=topic,
    )
