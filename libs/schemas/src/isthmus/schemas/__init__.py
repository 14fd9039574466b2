"""Isthmus Avro catalogue, serializers and wire formats (the only schema registry client)."""

from isthmus.schemas.catalogue import CatalogueSchema, SchemaCatalogue
from isthmus.schemas.errors import (
    CatalogueError,
    DecodeError,
    ErrorKind,
    IncompatibleSchemaError,
    RecordMismatchError,
    RegistryRejectedError,
    RegistryUnavailableError,
    SchemaError,
    UndecodableError,
    UnknownFingerprintError,
    UnknownMagicByteError,
    UnknownSchemaError,
    UnknownSchemaIdError,
    UnknownSchemaNameError,
)
from isthmus.schemas.factory import SerdeFactory, SerdePair
from isthmus.schemas.serde import AvroDeserializer, AvroSerializer
from isthmus.schemas.settings import SchemaSettings
from isthmus.schemas.wire import WireFormat

__all__ = [
    "AvroDeserializer",
    "AvroSerializer",
    "CatalogueError",
    "CatalogueSchema",
    "DecodeError",
    "ErrorKind",
    "IncompatibleSchemaError",
    "RecordMismatchError",
    "RegistryRejectedError",
    "RegistryUnavailableError",
    "SchemaCatalogue",
    "SchemaError",
    "SchemaSettings",
    "SerdeFactory",
    "SerdePair",
    "UndecodableError",
    "UnknownFingerprintError",
    "UnknownMagicByteError",
    "UnknownSchemaError",
    "UnknownSchemaIdError",
    "UnknownSchemaNameError",
    "WireFormat",
]
