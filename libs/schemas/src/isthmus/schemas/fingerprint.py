"""CRC-64-AVRO (Rabin) fingerprints of Parsing Canonical Form, as the Avro specification defines."""

from __future__ import annotations

EMPTY = 0xC15D213AA4D7A795
"""The fingerprint of the empty byte string; also the polynomial seed of the table."""


def _table() -> tuple[int, ...]:
    entries = []
    for index in range(256):
        fp = index
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        entries.append(fp)
    return tuple(entries)


_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    """Return the 64-bit CRC-64-AVRO fingerprint of ``data`` as an unsigned integer."""
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def schema_fingerprint(canonical_form: str) -> int:
    """Fingerprint of a schema given in Parsing Canonical Form."""
    return crc64_avro(canonical_form.encode("utf-8"))
