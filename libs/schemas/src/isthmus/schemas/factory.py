"""The composition point of the package: one catalogue and registry client per process."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient

from isthmus.schemas.catalogue import SchemaCatalogue
from isthmus.schemas.projection import projected
from isthmus.schemas.registry import RegistryClient
from isthmus.schemas.serde import AvroDeserializer, AvroSerializer
from isthmus.schemas.settings import SchemaSettings


@dataclass(frozen=True)
class SerdePair:
    """The serializer and deserializer of one value schema."""

    serializer: AvroSerializer
    deserializer: AvroDeserializer


class SerdeFactory:
    """Builds serializers and deserializers sharing one catalogue and one registry client.

    Build it once per process (in the composition root) from ``SchemaSettings``.
    """

    def __init__(
        self,
        *,
        settings: SchemaSettings,
        catalogue: SchemaCatalogue | None = None,
        registry: RegistryClient | None = None,
        root: Path | None = None,
    ) -> None:
        """Load the catalogue (unless given) and connect the registry (when a URL is set).

        ``root`` anchors a relative ``settings.schemas_dir`` (default: the working directory).

        Raises:
            CatalogueError: the schemas folder is missing or a schema is invalid.
        """
        self.settings = settings
        schemas_dir = settings.schemas_dir
        if root is not None and not schemas_dir.is_absolute():
            schemas_dir = root / schemas_dir
        self.catalogue = catalogue or SchemaCatalogue.load(schemas_dir)
        if registry is None and settings.registry_url is not None:
            registry = RegistryClient(
                client=SchemaRegistryClient(settings.registry_config()),
                cooldown_s=settings.registry_cooldown_s,
            )
        self.registry = registry

    def close(self) -> None:
        """Close the registry client's connections (serializers built here stop working)."""
        if self.registry is not None:
            self.registry.close()

    def __enter__(self) -> SerdeFactory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def serializer(self, *, value_schema: str) -> AvroSerializer:
        """A serializer for records of ``value_schema`` (full Avro name).

        Raises:
            UnknownSchemaNameError: the catalogue has no such schema.
        """
        return AvroSerializer(
            schema=self.catalogue.get(value_schema),
            registry=self.registry,
            auto_register=self.settings.auto_register,
        )

    def deserializer(
        self, *, value_schema: str | None, reads: Iterable[str] | None = None
    ) -> AvroDeserializer:
        """A deserializer reading into ``value_schema`` (``None``: as the writer wrote it).

        With ``reads`` (dotted field paths), records come back with only those fields: the
        reader schema is projected (``isthmus.schemas.projection``) and the rest is skipped.

        Raises:
            UnknownSchemaNameError: the catalogue has no such schema.
        """
        reader = self.catalogue.get(value_schema) if value_schema is not None else None
        if reader is not None and reads is not None:
            reader = projected(reader, reads)
        return AvroDeserializer(catalogue=self.catalogue, reader=reader, registry=self.registry)

    def pair(self, *, value_schema: str) -> SerdePair:
        """Serializer and deserializer for a topic whose ``value_schema`` is given.

        Raises:
            UnknownSchemaNameError: the catalogue has no such schema.
        """
        return SerdePair(
            serializer=self.serializer(value_schema=value_schema),
            deserializer=self.deserializer(value_schema=value_schema),
        )
