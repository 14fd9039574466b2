"""Errors raised by the Avro catalogue, the serializers and the registry client.

SchemaError                       root; ``kind`` says what a consumer loop does with it
├── CatalogueError                fatal: a schemas/ file is unreadable, invalid or unresolved
│   └── UnknownSchemaNameError    fatal: a full Avro name the catalogue does not hold
├── RecordMismatchError           invalid: a record to write does not match its schema (field)
├── DecodeError                   invalid: the bytes of a record cannot be read
│   ├── UndecodableError          invalid: empty, truncated or garbage bytes for the writer schema
│   ├── UnknownMagicByteError     invalid: neither Confluent (0x00) nor single-object (C3 01)
│   ├── UnknownSchemaError        invalid: the writer schema cannot be found
│   │   ├── UnknownSchemaIdError       invalid: the registry has no schema with that id
│   │   └── UnknownFingerprintError    invalid: the catalogue has no schema with that fingerprint
│   └── IncompatibleSchemaError   invalid: the writer schema cannot be resolved to the reader schema
├── RegistryUnavailableError      retryable: the registry did not answer (connection, timeout, 5xx)
└── RegistryRejectedError         fatal: the registry refused a request (e.g. incompatible schema)

The kinds match the consumer loop's taxonomy (docs/architecture.md, Delivery): ``invalid``
goes to the DLQ and the partition moves on, ``retryable`` backs off and retries, ``fatal``
stops the process.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What the consumer loop does with an error."""

    RETRYABLE = "retryable"
    INVALID = "invalid"
    FATAL = "fatal"


class SchemaError(Exception):
    """Root of every error raised by ``isthmus.schemas``.

    Attributes:
        kind: retryable, invalid or fatal (class attribute, see the module docstring).
        topic: the topic of the record being (de)serialized, when known.
    """

    kind: ErrorKind = ErrorKind.FATAL

    def __init__(self, message: str, *, topic: str | None = None) -> None:
        self.topic = topic
        super().__init__(f"{message} (topic {topic})" if topic else message)


class CatalogueError(SchemaError):
    """A schema file is unreadable or invalid; the message names the file and the problem."""


class UnknownSchemaNameError(CatalogueError):
    """No schema with this full Avro name is in the catalogue."""


class RecordMismatchError(SchemaError):
    """The record to serialize does not match the schema.

    Attributes:
        field: dotted path of the offending field, when it could be found.
    """

    kind = ErrorKind.INVALID

    def __init__(self, message: str, *, field: str | None = None, topic: str | None = None):
        self.field = field
        super().__init__(message, topic=topic)


class DecodeError(SchemaError):
    """The bytes of a record cannot be read into a value."""

    kind = ErrorKind.INVALID


class UndecodableError(DecodeError):
    """The payload is empty, truncated or not valid Avro for its writer schema."""


class UnknownMagicByteError(DecodeError):
    """The payload starts with neither the Confluent magic byte nor the single-object marker."""


class UnknownSchemaError(DecodeError):
    """The writer schema named by the payload cannot be found."""


class UnknownSchemaIdError(UnknownSchemaError):
    """The schema registry has no schema with the payload's id (or no registry is configured)."""


class UnknownFingerprintError(UnknownSchemaError):
    """The local catalogue has no schema with the payload's CRC-64-AVRO fingerprint."""


class IncompatibleSchemaError(DecodeError):
    """The writer schema cannot be resolved to the reader schema the consumer asked for."""


class RegistryUnavailableError(SchemaError):
    """The schema registry could not be reached or answered with a server error; try again."""

    kind = ErrorKind.RETRYABLE


class RegistryRejectedError(SchemaError):
    """The schema registry refused a request (bad schema, incompatible change, no permission)."""
